# cmake -DCONFORM=<conform> -DDIR=<folder outside the repository> -P relocated.cmake
# conform copied where no reference-driver is next to it and no spec/ is
# above it: it falls back to the spec folder it was built with, and says
# that reference-driver is unavailable.
file(REMOVE_RECURSE "${DIR}")
file(MAKE_DIRECTORY "${DIR}")
file(COPY "${CONFORM}" DESTINATION "${DIR}")
set(conform "${DIR}/conform")

function(expect rc regex)
  execute_process(COMMAND "${conform}" ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE got TIMEOUT 50)
  if(NOT "${got}" STREQUAL "${rc}" OR NOT "${out}${err}" MATCHES "${regex}")
    file(REMOVE_RECURSE "${DIR}")
    message(FATAL_ERROR "conform ${ARGN}: expected status ${rc} and /${regex}/, got ${got}:\n${out}${err}")
  endif()
endfunction()

expect(0 "reference-driver\tunavailable \\(not built\\)" --list-impls)
expect(2 "conform: reference-driver is unavailable \\(not built next to conform\\)" --impl reference-driver)
expect(0 "[a-z-]+\\.[a-z0-9-]+/[a-z0-9-]+\tcore" --list)  # the repository's spec, built in
file(REMOVE_RECURSE "${DIR}")
