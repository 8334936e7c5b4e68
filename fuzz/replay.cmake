# Included by the top-level CMakeLists.txt in a test build without
# DEFERRED_BUILD_FUZZ: each fuzz target built with fuzz/replay_main.cpp instead
# of libFuzzer, and a CTest test that runs it over the seeds generated from
# spec/ and the committed seeds and past findings (fuzz/seeds/TARGET).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
set(FUZZ_REPLAY_SEEDS ${CMAKE_BINARY_DIR}/fuzz-replay/seeds)
file(GLOB FUZZ_REPLAY_SPEC_FILES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/spec/*.yaml
     ${PROJECT_SOURCE_DIR}/spec/rules/*.yaml ${PROJECT_SOURCE_DIR}/conformance/drivers/*/impl.json)
add_custom_command(
  OUTPUT ${FUZZ_REPLAY_SEEDS}/stamp
  COMMAND ${Python3_EXECUTABLE} ${FUZZ_DIR}/make_corpus.py --spec ${PROJECT_SOURCE_DIR}/spec --out ${FUZZ_REPLAY_SEEDS}
  COMMAND ${CMAKE_COMMAND} -E touch ${FUZZ_REPLAY_SEEDS}/stamp
  DEPENDS ${FUZZ_DIR}/make_corpus.py ${FUZZ_REPLAY_SPEC_FILES}
  COMMENT "Generating the fuzz seed corpora from spec/ (for the replay tests)")
add_custom_target(fuzz_replay_seeds ALL DEPENDS ${FUZZ_REPLAY_SEEDS}/stamp)

# The scenario target reads its input with clang's header-only
# FuzzedDataProvider (Debian: libclang-rt-14-dev, which tools/setup installs).
file(GLOB FUZZ_PROVIDER_DIRS /usr/lib/llvm-*/lib/clang/*/include)
find_path(FUZZED_DATA_PROVIDER_DIR fuzzer/FuzzedDataProvider.h HINTS ${FUZZ_PROVIDER_DIRS})
if(NOT FUZZED_DATA_PROVIDER_DIR)
  message(FATAL_ERROR "fuzzer/FuzzedDataProvider.h not found (Debian: libclang-rt-14-dev; run tools/setup)")
endif()
# Copied alone: clang's include folder would shadow the C headers for g++.
configure_file(${FUZZED_DATA_PROVIDER_DIR}/fuzzer/FuzzedDataProvider.h
               ${CMAKE_BINARY_DIR}/fuzz-replay/include/fuzzer/FuzzedDataProvider.h COPYONLY)

foreach(name spec_loader driver_response scenario)
  add_executable(fuzz_replay_${name} ${FUZZ_DIR}/${name}_fuzzer.cpp ${FUZZ_DIR}/replay_main.cpp)
  target_include_directories(fuzz_replay_${name} PRIVATE ${FUZZ_DIR})
  target_include_directories(fuzz_replay_${name} SYSTEM PRIVATE ${CMAKE_BINARY_DIR}/fuzz-replay/include)
  target_compile_definitions(fuzz_replay_${name} PRIVATE FUZZ_SPEC_DIR="${PROJECT_SOURCE_DIR}/spec")
  target_link_libraries(fuzz_replay_${name} PRIVATE conformance_core deferred_warnings)
  add_test(NAME fuzz.replay.${name}
           COMMAND fuzz_replay_${name} ${FUZZ_REPLAY_SEEDS}/${name} ${FUZZ_DIR}/seeds/${name})
  set_tests_properties(fuzz.replay.${name} PROPERTIES TIMEOUT 300 LABELS fuzz)
endforeach()
target_link_libraries(fuzz_replay_scenario PRIVATE conformance_reference_adapter)
