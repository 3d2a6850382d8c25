#include "cli/pretty_json.hpp"

namespace syndic::cli {

std::string pretty_json(std::string_view in, int indent) {
  std::string out;
  out.reserve(in.size() + in.size() / 4);
  int depth = 0;
  bool in_string = false;
  auto newline = [&] {
    out += '\n';
    out.append(static_cast<std::size_t>(depth * indent), ' ');
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < in.size()) out += in[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; out += c; break;
      case '{':
      case '[':
        out += c;
        // Keep empty containers on one line.
        if (i + 1 < in.size() && (in[i + 1] == '}' || in[i + 1] == ']')) {
          out += in[++i];
          break;
        }
        ++depth;
        newline();
        break;
      case '}':
      case ']':
        --depth;
        newline();
        out += c;
        break;
      case ',': out += c; newline(); break;
      case ':': out += ": "; break;
      case ' ': case '\n': case '\t': case '\r': break;
      default: out += c;
    }
  }
  out += '\n';
  return out;
}

}  // namespace syndic::cli
