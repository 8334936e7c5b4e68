# Included by the top-level CMakeLists.txt when DEFERRED_BUILD_FUZZ is ON,
# before any target: everything in the build (the reference, the runner, the
# fuzz targets) is compiled with libFuzzer's coverage instrumentation and
# AddressSanitizer + UndefinedBehaviorSanitizer. clang only (the `fuzz` preset).
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "DEFERRED_BUILD_FUZZ needs clang (libFuzzer): configure with the `fuzz` preset "
                      "or -DCMAKE_CXX_COMPILER=clang++ (Debian: clang, libclang-rt-14-dev)")
endif()
add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
# clang 14 + libstdc++ 12 lack std::source_location, which the reference uses: a stand-in (no-op elsewhere).
add_compile_options("SHELL:-include ${CMAKE_CURRENT_LIST_DIR}/compat/source_location.h")
enable_testing()
