#!/usr/bin/env python3
"""Turn bench/run.sh's results.jsonl into the printed table and bench/out/results.json.

Usage: report.py RESULTS_JSONL OUT_JSON   (run.sh calls report.main with run metadata)
"""
import json
import sys

SERVERS = ("berth", "distribution", "nginx")
SHORT = {"berth": "B", "distribution": "D", "nginx": "N"}

# metric -> (label, better: "up" = higher is better, "down" = lower is better)
ROWS = [
    ("manifest_get_tag", "manifest GET by tag, c32", "up"),
    ("manifest_get_tag_basic", "manifest GET by tag, auth on (defaults), Basic, c32", "up"),
    ("manifest_get_tag_bearer", "manifest GET by tag, auth on (defaults), Bearer, c32", "up"),
    ("manifest_head_digest", "manifest HEAD by digest, c32", "up"),
    ("blob_get_1mib", "blob GET 1 MiB, c16", "up"),
    ("blob_get_big", "blob GET {big} MiB, 1 conn", "up"),
    ("blob_push_big", "blob push {big} MiB, best of 3", "up"),
    ("c1000_ok", "{c1000} conns: conns served >={rounds} rounds", "up"),
    ("c1000_mixed", "{c1000} conns (man+blob): req/s", "up"),
    ("c1000_peak_rss", "{c1000} conns: peak RSS", "down"),
    ("listing_seed_repos", "seed {repos} repos (mount+PUT)", "up"),
    ("listing_seed_tags", "seed {tags} tags (PUT)", "up"),
    ("list_catalog", "_catalog?n=100 to end", "up"),
    ("list_tags", "tags/list?n=100 to end", "up"),
    ("final_rss", "RSS at end of run", "down"),
]


def fmt(v):
    if v is None:
        return "n/a"
    if v >= 100:
        return "{:,.0f}".format(v)
    return "{:.1f}".format(v)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return "{:.2f}x".format(a / b)


def load(path):
    recs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                recs.append(json.loads(line))
    # derived: successful responses in the 1000-connection test
    for r in list(recs):
        if r["metric"] == "c1000_mixed":
            d = r["detail"]
            conns, ok = d.get("conns", 0), d.get("conns_ok", 0)
            errs = dict(r["errors"])
            if ok < conns:
                errs["conns_not_served"] = conns - ok
                r["errors"] = errs
            recs.append({"metric": "c1000_ok", "server": r["server"], "value": float(ok), "unit": "conns",
                         "errors": errs, "detail": {"conns": conns, "conns_ok": ok, "rounds_ok": d.get("rounds_ok"),
                                                    "requests": d.get("requests", 0),
                                                    "duration_s": d.get("duration_s")}})
    return recs


def err_str(errs):
    return ",".join("%s=%s" % (k, v) for k, v in sorted(errs.items()))


# The authenticated manifest GET next to the unauthenticated one and the static ceiling.
MANIFEST_SIDE_BY_SIDE = [
    ("manifest_get_tag", "berth", "Berth, auth off (log level warn, no access log)"),
    ("manifest_get_tag_basic", "berth", "Berth, Basic admin (defaults: access log + audit on)"),
    ("manifest_get_tag_bearer", "berth", "Berth, Bearer token (defaults: access log + audit on)"),
    ("manifest_get_tag", "nginx", "nginx, static file"),
]


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return None if n == 0 else (xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2)


def by_round(rounds):
    return {r["detail"].get("round", 1): r for r in rounds}


def manifest_side_by_side(all_by):
    """Each round's figure over the same round's nginx; the median of those ratios."""
    ceiling = by_round(all_by.get("manifest_get_tag", {}).get("nginx", []))
    out = []
    for metric, server, label in MANIFEST_SIDE_BY_SIDE:
        rounds = by_round(all_by.get(metric, {}).get(server, []))
        if not rounds:
            continue
        ratios = [r["value"] / ceiling[n]["value"] for n, r in sorted(rounds.items())
                  if n in ceiling and ceiling[n]["value"]]
        errs = {}
        for r in rounds.values():
            for k, v in r["errors"].items():
                errs[k] = errs.get(k, 0) + v
        out.append((label, median([r["value"] for r in rounds.values()]),
                    median(ratios), ratios, err_str(errs)))
    return out


def collapse(rounds):
    """One record per metric and server: the median round (the figures of repeated rounds)."""
    if len(rounds) == 1:
        return rounds[0]
    ordered = sorted(rounds, key=lambda r: r["value"])
    mid = dict(ordered[len(ordered) // 2])
    mid["value"] = median([r["value"] for r in rounds])
    errs = {}
    for r in rounds:
        for k, v in r["errors"].items():
            errs[k] = errs.get(k, 0) + v
    mid["errors"] = errs
    mid["rounds"] = [r["value"] for r in rounds]
    return mid


def main(jsonl, out_json, meta):
    recs = load(jsonl)
    all_by = {}
    for r in recs:
        all_by.setdefault(r["metric"], {}).setdefault(r["server"], []).append(r)
    by = {m: {s: collapse(rs) for s, rs in cells.items()} for m, cells in all_by.items()}
    rows_out = []
    hdr = ("metric", "unit", "better", "Berth", "distribution", "nginx", "B/dist", "B/nginx", "errors")
    lines = []
    for key, label, better in ROWS:
        cells = by.get(key)
        if not cells:
            continue
        label = label.format(big=meta.get("big_blob_mib"), c1000=meta.get("c1000_connections"),
                             repos=meta.get("list_repos"), tags=meta.get("list_tags"),
                             rounds=meta.get("c1000_rounds"))
        vals = {s: (cells[s]["value"] if s in cells else None) for s in SERVERS}
        unit = next(iter(cells.values()))["unit"]
        errs = {s: cells[s]["errors"] for s in SERVERS if s in cells and cells[s]["errors"]}
        notes = []
        for s in SERVERS:
            if s in cells:
                n = cells[s]["detail"].get("note")
                if n:
                    notes.append("%s: %s" % (SHORT[s], n))
        flag = "!! " if errs else ""
        estr = "; ".join("%s:%s" % (SHORT[s], err_str(e)) for s, e in errs.items()) or "0"
        lines.append((flag + label, unit, "higher" if better == "up" else "lower",
                      fmt(vals["berth"]), fmt(vals["distribution"]), fmt(vals["nginx"]),
                      ratio(vals["berth"], vals["distribution"]), ratio(vals["berth"], vals["nginx"]), estr))
        rows_out.append({"metric": key, "label": label, "unit": unit, "better": better, "values": vals,
                         "berth_over_distribution": (vals["berth"] / vals["distribution"]
                                                     if vals["berth"] is not None and vals["distribution"] else None),
                         "berth_over_nginx": (vals["berth"] / vals["nginx"]
                                              if vals["berth"] is not None and vals["nginx"] else None),
                         "errors": errs, "flagged": bool(errs), "notes": notes})
    widths = [max(len(str(x[i])) for x in [hdr] + lines) for i in range(len(hdr))]
    p = print
    p()
    p("Berth benchmark  (%s run; %s cores shared by servers and load tools)" %
      ("QUICK" if meta.get("quick") else "FULL", meta.get("cores")))
    p("load average before/after: %s / %s (anything else running skews the figures)" %
      (meta.get("loadavg_start"), meta.get("loadavg_end")))
    p("Berth: %s %s [%s]; logging: %s" % (meta.get("berth_binary") or "-", meta.get("berth_version") or "",
                                           meta.get("berth_status"), meta.get("berth_logging")))
    p("distribution: %s; %s" % (meta.get("distribution"), meta.get("distribution_config")))
    p("nginx: %s; %s" % (meta.get("nginx"), meta.get("nginx_config")))
    p()
    for i, row in enumerate([hdr] + lines):
        p("  ".join(str(c).rjust(widths[j]) if 3 <= j <= 7 else str(c).ljust(widths[j])
                    for j, c in enumerate(row)).rstrip())
        if i == 0:
            p("  ".join("-" * w for w in widths))
    manifest_rows = manifest_side_by_side(all_by)
    if manifest_rows:
        p()
        p("Manifest GET by tag, wrk -t1 -c32, %s interleaved round(s) (same bytes; each round's ratio to that "
          "round's nginx serving them as a static file; median req/s and median ratio):" % meta.get("manifest_rounds", 1))
        w = max(len(r[0]) for r in manifest_rows)
        for label, v, r, rs, e in manifest_rows:
            p("  %s  %9s req/s  %6s   rounds: %s%s" % (
                label.ljust(w), fmt(v), "n/a" if r is None else "%.2fx" % r,
                " ".join("%.2fx" % x for x in rs) or "n/a", ("  !! errors: " + e) if e else ""))
    allnotes = [(r["label"], n) for r in rows_out for n in r["notes"]]
    if allnotes:
        p()
        for label, n in allnotes:
            p("note: %s: %s" % (label, n))
    p()
    p("Ratios are Berth/other of the raw figures: for 'higher' rows >1 means Berth is better, "
      "for 'lower' rows (RSS) <1 means Berth is better. '!!' = a row with errors.")
    # load-tool figures
    p()
    p("Load-tool figures (requests, req/s, MB/s, latency p50/p99 in ms, errors):")
    for key, _, _ in ROWS:
        for s in SERVERS:
            r = by.get(key, {}).get(s)
            if not r:
                continue
            d = r["detail"]
            if d.get("tool") in ("wrk", "loadgen"):
                lat = d.get("lat_us", {})
                mbps = d.get("bytes", 0) / d["duration_s"] / 1e6 if d.get("duration_s") else 0
                extra = ""
                if d.get("tool") == "loadgen" and d.get("rounds_per_conn"):
                    extra = " conns_ok=%s/%s in %.1fs" % (d.get("conns_ok"), d.get("conns"), d.get("duration_s", 0))
                p("  %-22s %-12s %-8s req=%-9s %9.1f req/s %8.1f MB/s  p50=%.2f p99=%.2f ms%s  errors: %s" % (
                    key, s, d["tool"], d.get("requests"), d.get("rps", 0), mbps,
                    lat.get("p50", 0) / 1000, lat.get("p99", 0) / 1000, extra, err_str(r["errors"]) or "none"))
            elif key in ("blob_get_big", "blob_push_big"):
                p("  %-22s %-12s %-8s %s  errors: %s" % (key, s, d.get("tool"), d.get("responses") or d.get("rows"),
                                                        err_str(r["errors"]) or "none"))
            elif key.startswith("list_"):
                p("  %-22s %-12s pages=%s entries=%s unique=%s %.2fs complete=%s%s" % (
                    key, s, d.get("pages"), d.get("entries"), d.get("unique"), d.get("seconds") or 0,
                    d.get("complete"), ("  note: " + d["note"]) if d.get("note") else ""))
    other = [r for r in recs if r["metric"] in ("server_exit", "probe", "seed")]
    if other:
        p()
        p("Problems:")
        for r in other:
            p("  !! %s %s %s %s" % (r["metric"], r["server"], err_str(r["errors"]), json.dumps(r["detail"])[:300]))
    if meta.get("berth_stderr_errors"):
        p()
        p("Berth stderr error lines (first 5):")
        for l in meta["berth_stderr_errors"].splitlines():
            p("  " + l)
    with open(out_json, "w") as f:
        json.dump({"meta": meta, "rows": rows_out, "manifest_get_vs_nginx": [
            {"label": label, "value": v, "over_nginx": r, "over_nginx_by_round": rs, "errors": e}
            for label, v, r, rs, e in manifest_rows],
            "raw": recs}, f, indent=1)
    p()
    p("JSON: %s" % out_json)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], {})
