/* loadgen: small keep-alive HTTP/1.1 load generator for the Berth benchmark.
 *
 * Why not only wrk: wrk 4.1.0 (Debian) cannot benchmark HEAD — its parser does not
 * know the request was HEAD, so "Content-Length: N" on the response makes it wait
 * for N body bytes that never come (0 requests complete). And for the
 * many-connections test we want per-connection success ("did each of the 1000
 * connections get its manifest AND its blob?"), which wrk does not report.
 *
 * Usage: loadgen [-t THREADS] [-c CONNS] [-d MAX_SECONDS] [-r ROUNDS [-s MIN_SECONDS]] [-m METHOD]
 *                [-H 'Name: value']... PORT PATH [PATH...]
 *   Each connection sends PATH1, PATH2, ... PATHn, PATH1, ... (one "round" = all
 *   paths once, in order), one request at a time (no pipelining). With -r R each
 *   connection stops after R good rounds (but not before MIN_SECONDS with -s);
 *   otherwise it runs until MAX_SECONDS.
 *   Bodies are skipped (Content-Length or chunked). Only connects to 127.0.0.1.
 *
 * Prints one JSON object on stdout. errors.status counts HTTP status > 399 (as wrk);
 * conns_ok = connections that completed >= 1 round (all R rounds with -r) with
 * every response 2xx.
 *
 * Build: cc -O2 -pthread -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDRMAX 16384
#define RBUF 65536
#define TIMEOUT_US 10000000ull
#define MAXPATHS 8

enum { ST_HDR, ST_BODY_CL, ST_CHUNK_SIZE, ST_CHUNK_DATA, ST_CHUNK_CRLF, ST_TRAILER };

typedef struct {
    int fd, connecting, done;
    int state;
    size_t sent, hlen;
    uint64_t remaining;
    int status, close_after;
    int path_idx, round_bad;
    uint64_t rounds_ok;
    uint64_t t0, retry_at;
    char hdr[HDRMAX + 1];
    char line[64];
    size_t llen;
} conn_t;

typedef struct {
    int nconns;
    pthread_t th;
    uint64_t requests, bytes, status_err, non2xx, connect_err, read_err, write_err, timeout_err, proto_err, reconnects;
    uint64_t rounds_ok, conns_ok;
    uint32_t *lat;
    size_t nlat, caplat;
} thr_t;

static int g_port, g_npaths, g_rounds, g_head;
static char *g_req[MAXPATHS];
static size_t g_reqlen[MAXPATHS];
static uint64_t g_deadline, g_min_end;

static uint64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static void ep_set(int ep, conn_t *c, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static int open_conn(thr_t *t, int ep, conn_t *c) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)g_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (c->fd < 0) { t->connect_err++; return -1; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->sent = c->hlen = c->llen = 0;
    c->state = ST_HDR;
    c->connecting = 1;
    c->t0 = now_us();
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
        t->connect_err++;
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

static void drop(int ep, conn_t *c) {
    if (c->fd >= 0) { epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL); close(c->fd); }
    c->fd = -1;
}

/* connect failed: retry this connection 50 ms later instead of spinning */
static void backoff(int ep, conn_t *c) {
    drop(ep, c);
    c->retry_at = now_us() + 50000;
}

static void reopen(thr_t *t, int ep, conn_t *c) {
    drop(ep, c);
    if (c->sent || c->path_idx) c->round_bad = 1; /* a request or round in flight is lost */
    if (!c->done && now_us() < g_deadline) {
        t->reconnects++;
        if (open_conn(t, ep, c) < 0) c->retry_at = now_us() + 50000;
    }
}

static void send_req(thr_t *t, int ep, conn_t *c) {
    const char *r = g_req[c->path_idx];
    size_t len = g_reqlen[c->path_idx];
    while (c->sent < len) {
        ssize_t n = write(c->fd, r + c->sent, len - c->sent);
        if (n < 0) {
            if (errno == EAGAIN) { ep_set(ep, c, EPOLLIN | EPOLLOUT); return; }
            t->write_err++;
            reopen(t, ep, c);
            return;
        }
        c->sent += (size_t)n;
    }
    ep_set(ep, c, EPOLLIN);
}

static void record(thr_t *t, uint32_t us) {
    if (t->nlat == t->caplat) {
        t->caplat = t->caplat ? t->caplat * 2 : 65536;
        t->lat = realloc(t->lat, t->caplat * sizeof *t->lat);
    }
    t->lat[t->nlat++] = us;
}

/* a whole response arrived; returns 0 to go on, -1 if the connection is finished/closed */
static int response_done(thr_t *t, int ep, conn_t *c) {
    t->requests++;
    record(t, (uint32_t)(now_us() - c->t0));
    if (c->status > 399) t->status_err++;
    if (c->status < 200 || c->status > 299) { t->non2xx++; c->round_bad = 1; }
    c->path_idx++;
    if (c->path_idx == g_npaths) {
        c->path_idx = 0;
        if (!c->round_bad) {
            c->rounds_ok++;
            t->rounds_ok++;
        }
        c->round_bad = 0;
        if (g_rounds && c->rounds_ok >= (uint64_t)g_rounds && now_us() >= g_min_end) c->done = 1;
    }
    c->sent = c->hlen = c->llen = 0;
    c->state = ST_HDR;
    if (c->close_after) { reopen(t, ep, c); return -1; }
    if (c->done || now_us() >= g_deadline) { drop(ep, c); c->done = 1; return -1; }
    c->t0 = now_us();
    send_req(t, ep, c);
    return 0;
}

static int parse_headers(conn_t *c) {
    if (sscanf(c->hdr, "HTTP/1.%*d %d", &c->status) != 1) return -1;
    c->close_after = strcasestr(c->hdr, "\r\nConnection: close") != NULL;
    char *cl = strcasestr(c->hdr, "\r\nContent-Length:");
    int chunked = strcasestr(c->hdr, "\r\nTransfer-Encoding: chunked") != NULL;
    int is_head = g_head;
    if (is_head || c->status == 204 || c->status == 304 || (c->status >= 100 && c->status < 200)) {
        c->remaining = 0;
        c->state = ST_BODY_CL;
    } else if (chunked) {
        c->state = ST_CHUNK_SIZE;
        c->llen = 0;
    } else if (cl) {
        c->remaining = strtoull(cl + 17, NULL, 10);
        c->state = ST_BODY_CL;
    } else {
        return -1; /* read-until-close bodies are not supported */
    }
    return 0;
}

/* feed bytes; returns number consumed, sets *complete when a response ends */
static size_t feed_body(thr_t *t, conn_t *c, const char *p, size_t n, int *complete, int *bad) {
    size_t used = 0;
    *complete = 0;
    while (used < n || (c->state == ST_BODY_CL && c->remaining == 0)) {
        switch (c->state) {
        case ST_BODY_CL: {
            uint64_t k = n - used < c->remaining ? n - used : c->remaining;
            used += k; c->remaining -= k; t->bytes += k;
            if (c->remaining == 0) { *complete = 1; return used; }
            break;
        }
        case ST_CHUNK_SIZE:
        case ST_TRAILER: {
            char ch = p[used++];
            if (c->llen < sizeof c->line - 1) c->line[c->llen++] = ch;
            if (ch != '\n') break;
            c->line[c->llen] = 0;
            if (c->state == ST_TRAILER) {
                int empty = c->llen <= 2;
                c->llen = 0;
                if (empty) { *complete = 1; return used; }
                break;
            }
            c->remaining = strtoull(c->line, NULL, 16);
            c->llen = 0;
            c->state = c->remaining ? ST_CHUNK_DATA : ST_TRAILER;
            break;
        }
        case ST_CHUNK_DATA: {
            uint64_t k = n - used < c->remaining ? n - used : c->remaining;
            used += k; c->remaining -= k; t->bytes += k;
            if (c->remaining == 0) { c->state = ST_CHUNK_CRLF; c->llen = 0; }
            break;
        }
        case ST_CHUNK_CRLF:
            if (p[used++] == '\n') c->state = ST_CHUNK_SIZE;
            break;
        default:
            *bad = 1;
            return used;
        }
    }
    return used;
}

static void on_readable(thr_t *t, int ep, conn_t *c) {
    static __thread char rb[RBUF];
    for (;;) {
        ssize_t n = read(c->fd, rb, sizeof rb);
        if (n == 0) { /* peer closed */
            if (c->hlen || c->sent || c->state != ST_HDR) t->read_err++;
            reopen(t, ep, c);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN) return;
            t->read_err++;
            reopen(t, ep, c);
            return;
        }
        size_t off = 0;
        while (off < (size_t)n) {
            if (c->state == ST_HDR) {
                /* copy into header buffer until the blank line */
                size_t room = HDRMAX - c->hlen;
                size_t k = (size_t)n - off < room ? (size_t)n - off : room;
                memcpy(c->hdr + c->hlen, rb + off, k);
                size_t before = c->hlen;
                c->hlen += k;
                c->hdr[c->hlen] = 0;
                char *end = strstr(c->hdr, "\r\n\r\n");
                if (!end) {
                    if (c->hlen >= HDRMAX) { t->proto_err++; reopen(t, ep, c); return; }
                    off += k;
                    continue;
                }
                size_t hend = (size_t)(end + 4 - c->hdr);
                off += hend - before; /* bytes of this read that belong to the header */
                end[2] = 0;           /* keep the last header's CRLF for matching */
                if (parse_headers(c) < 0) { t->proto_err++; reopen(t, ep, c); return; }
            }
            int complete = 0, bad = 0;
            off += feed_body(t, c, rb + off, (size_t)n - off, &complete, &bad);
            if (bad) { t->proto_err++; reopen(t, ep, c); return; }
            if (complete) {
                if (off < (size_t)n) { /* bytes past the response, e.g. a body on HEAD */
                    t->proto_err++;
                    c->close_after = 1;
                }
                if (response_done(t, ep, c) < 0) return;
                if (off < (size_t)n) return;
            }
        }
    }
}

static void *run(void *arg) {
    thr_t *t = arg;
    int ep = epoll_create1(0);
    conn_t *cs = calloc((size_t)t->nconns, sizeof *cs);
    for (int i = 0; i < t->nconns; i++) {
        cs[i].fd = -1;
        if (open_conn(t, ep, &cs[i]) < 0) cs[i].retry_at = now_us() + 50000;
    }
    struct epoll_event evs[256];
    uint64_t last_check = now_us();
    for (;;) {
        uint64_t now = now_us();
        if (now >= g_deadline) break;
        int active = 0;
        for (int i = 0; i < t->nconns && !active; i++) active = cs[i].fd >= 0 || (cs[i].retry_at && !cs[i].done);
        if (!active) break;
        int n = epoll_wait(ep, evs, 256, 20);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->fd < 0) continue;
            if (c->connecting && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t l = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                if (err) { t->connect_err++; backoff(ep, c); continue; }
                c->connecting = 0;
                c->t0 = now_us();
                send_req(t, ep, c);
                continue;
            }
            if (evs[i].events & EPOLLIN) on_readable(t, ep, c);
            else if (evs[i].events & EPOLLOUT) send_req(t, ep, c);
            else if (evs[i].events & (EPOLLERR | EPOLLHUP)) { t->read_err++; reopen(t, ep, c); }
        }
        now = now_us();
        if (now - last_check > 20000) {
            last_check = now;
            for (int i = 0; i < t->nconns; i++) {
                conn_t *c = &cs[i];
                if (c->fd >= 0 && now - c->t0 > TIMEOUT_US) { t->timeout_err++; reopen(t, ep, c); }
                else if (c->fd < 0 && c->retry_at && !c->done && now >= c->retry_at) {
                    c->retry_at = 0;
                    t->reconnects++;
                    if (open_conn(t, ep, c) < 0) c->retry_at = now + 50000;
                }
            }
        }
    }
    for (int i = 0; i < t->nconns; i++) {
        if (cs[i].fd >= 0) close(cs[i].fd);
        if (cs[i].rounds_ok >= (uint64_t)(g_rounds ? g_rounds : 1)) t->conns_ok++;
    }
    free(cs);
    close(ep);
    return NULL;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void usage(void) {
    fprintf(stderr, "usage: loadgen [-t T] [-c C] [-d MAXSEC] [-r ROUNDS] [-s MINSEC] [-m GET|HEAD] [-H hdr]... PORT PATH [PATH...]\n");
    exit(2);
}

int main(int argc, char **argv) {
    int threads = 2, conns = 32, secs = 10, min_secs = 0, opt;
    const char *method = "GET";
    char hdrs[2048] = "";
    while ((opt = getopt(argc, argv, "t:c:d:s:r:m:H:")) != -1) {
        switch (opt) {
        case 't': threads = atoi(optarg); break;
        case 'c': conns = atoi(optarg); break;
        case 'd': secs = atoi(optarg); break;
        case 'r': g_rounds = atoi(optarg); break;
        case 's': min_secs = atoi(optarg); break;
        case 'm': method = optarg; break;
        case 'H':
            if (strlen(hdrs) + strlen(optarg) + 3 < sizeof hdrs) { strcat(hdrs, optarg); strcat(hdrs, "\r\n"); }
            break;
        default: usage();
        }
    }
    g_npaths = argc - optind - 1;
    if (g_npaths < 1 || g_npaths > MAXPATHS || threads < 1 || conns < threads || secs < 1 || secs > 600 || g_rounds < 0 || min_secs < 0 || min_secs > secs)
        usage();
    g_port = atoi(argv[optind]);
    g_head = strcmp(method, "HEAD") == 0;
    for (int i = 0; i < g_npaths; i++) {
        g_req[i] = malloc(4096);
        g_reqlen[i] = (size_t)snprintf(g_req[i], 4096, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n", method,
                                       argv[optind + 1 + i], g_port, hdrs);
    }
    uint64_t start = now_us();
    g_deadline = start + (uint64_t)secs * 1000000u;
    g_min_end = start + (uint64_t)min_secs * 1000000u;
    thr_t *ts = calloc((size_t)threads, sizeof *ts);
    for (int i = 0; i < threads; i++) {
        ts[i].nconns = conns / threads + (i < conns % threads);
        pthread_create(&ts[i].th, NULL, run, &ts[i]);
    }
    thr_t s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < threads; i++) {
        pthread_join(ts[i].th, NULL);
        s.requests += ts[i].requests; s.bytes += ts[i].bytes; s.status_err += ts[i].status_err;
        s.non2xx += ts[i].non2xx; s.connect_err += ts[i].connect_err; s.read_err += ts[i].read_err;
        s.write_err += ts[i].write_err; s.timeout_err += ts[i].timeout_err; s.proto_err += ts[i].proto_err;
        s.reconnects += ts[i].reconnects; s.rounds_ok += ts[i].rounds_ok; s.conns_ok += ts[i].conns_ok;
        s.nlat += ts[i].nlat;
    }
    double dur = (double)(now_us() - start) / 1e6;
    uint32_t *all = malloc((s.nlat ? s.nlat : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        if (ts[i].nlat) memcpy(all + k, ts[i].lat, ts[i].nlat * sizeof *all);
        k += ts[i].nlat;
        free(ts[i].lat);
    }
    qsort(all, s.nlat, sizeof *all, cmp_u32);
#define PCT(p) (s.nlat ? all[(size_t)((double)(s.nlat - 1) * (p))] : 0)
    printf("{\"tool\":\"loadgen\",\"method\":\"%s\",\"paths\":%d,\"conns\":%d,\"rounds_per_conn\":%d,\"min_s\":%d,"
           "\"duration_s\":%.3f,\"requests\":%llu,\"rps\":%.1f,\"bytes\":%llu,"
           "\"errors\":{\"status\":%llu,\"connect\":%llu,\"read\":%llu,\"write\":%llu,\"timeout\":%llu,\"proto\":%llu},"
           "\"non2xx\":%llu,\"reconnects\":%llu,\"rounds_ok\":%llu,\"conns_ok\":%llu,"
           "\"lat_us\":{\"p50\":%u,\"p99\":%u,\"max\":%u}}\n",
           method, g_npaths, conns, g_rounds, min_secs, dur, (unsigned long long)s.requests, (double)s.requests / dur,
           (unsigned long long)s.bytes, (unsigned long long)s.status_err, (unsigned long long)s.connect_err,
           (unsigned long long)s.read_err, (unsigned long long)s.write_err, (unsigned long long)s.timeout_err,
           (unsigned long long)s.proto_err, (unsigned long long)s.non2xx, (unsigned long long)s.reconnects,
           (unsigned long long)s.rounds_ok, (unsigned long long)s.conns_ok, PCT(0.5), PCT(0.99),
           s.nlat ? all[s.nlat - 1] : 0);
    free(all);
    free(ts);
    return 0;
}
