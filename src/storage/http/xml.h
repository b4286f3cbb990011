#pragma once
// Just enough XML for the object stores' listing and error bodies: the text of simple
// elements, found by name, in document order. No attributes, namespaces or CDATA.
#include <string>
#include <string_view>
#include <vector>

namespace berth::storage::http {

// The raw contents of every <name>...</name> element (also <name attr="...">), in order.
std::vector<std::string_view> xmlElements(std::string_view xml, std::string_view name);
// The unescaped text of the first <name> element, or "".
std::string xmlText(std::string_view xml, std::string_view name);
// &, <, > and quotes escaped for element text.
std::string xmlEscape(std::string_view text);

}  // namespace berth::storage::http
