// toml++'s compiled part, built into the `syndic` executable: with it the command does not
// need libtomlplusplus.so, which would load libstdc++.so at every start (about 3 ms here; see
// cmake/static_command.cmake). The same headers and options as outlets_file.cpp (which uses
// them through the tomlplusplus::tomlplusplus target), so the declarations match.
#define TOML_IMPLEMENTATION 1
#include <toml++/toml.h>
