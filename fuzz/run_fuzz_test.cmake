# CTest driver of one fuzz target (fuzz/CMakeLists.txt): runs every seed
# (generated SEEDS and the committed fuzz/seeds/NAME), then fuzzes for SECONDS
# (none when 0).
# New inputs go to SCRATCH (emptied first); crash files to FINDINGS.
# Fails when the fuzzer reports anything (non-zero exit).
file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH} ${FINDINGS})
file(STRINGS ${FUZZ_DIR}/options/${NAME}.txt options)
set(args "")
foreach(o ${options})
  string(REPLACE "=dicts/" "=${FUZZ_DIR}/dicts/" o "${o}")
  list(APPEND args "${o}")
endforeach()
# SECONDS 0: the seeds only, deterministic (the default for CTest).
if(SECONDS EQUAL 0)
  set(duration -runs=0)
else()
  set(duration -max_total_time=${SECONDS})
endif()
execute_process(
  COMMAND ${FUZZER} ${args} -timeout=10 -rss_limit_mb=2048 ${duration} -print_final_stats=1
          -artifact_prefix=${FINDINGS} ${SCRATCH} ${SEEDS} ${FUZZ_DIR}/seeds/${NAME}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${out}")
if(NOT rc EQUAL 0)
  message("${out}")
  message(FATAL_ERROR "fuzz target ${NAME}: the fuzzer reported a problem (exit ${rc}); inputs under ${FINDINGS}")
endif()
message(STATUS "fuzz target ${NAME}: ok (${runs})")
