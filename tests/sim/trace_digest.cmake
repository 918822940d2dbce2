# ctest helper: runs `pg_ha_sim --seed SEED --trace` and compares the MD5 of its whole trace with
# DIGEST. A seed's trace is its behaviour, step by step: a change that should not alter behaviour
# (a faster codec, a cache) must leave it unchanged. A change meant to alter behaviour updates the
# digests in tests/sim/CMakeLists.txt with the values this prints.
execute_process(COMMAND ${SIM} --seed ${SEED} --trace OUTPUT_VARIABLE out RESULT_VARIABLE rc)
string(MD5 got "${out}")
if(NOT got STREQUAL DIGEST)
  message(FATAL_ERROR "seed ${SEED}: trace digest ${got}, pinned ${DIGEST} (exit ${rc})")
endif()
message(STATUS "seed ${SEED}: trace digest ${got} as pinned")
