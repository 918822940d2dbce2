# Finds PostgreSQL through pg_config (PG_CONFIG may point at another installation).
find_program(PG_CONFIG NAMES pg_config PATHS /usr/lib/postgresql/15/bin REQUIRED)

function(_pg_config_var out flag)
  execute_process(COMMAND ${PG_CONFIG} ${flag} OUTPUT_VARIABLE value OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pg_config ${flag} failed")
  endif()
  set(${out} "${value}" PARENT_SCOPE)
endfunction()

_pg_config_var(PG_INCLUDEDIR_SERVER --includedir-server)
_pg_config_var(PG_INCLUDEDIR --includedir)
_pg_config_var(PG_PKGLIBDIR --pkglibdir)
_pg_config_var(PG_SHAREDIR --sharedir)
_pg_config_var(PG_BINDIR --bindir)
_pg_config_var(PG_LIBDIR --libdir)
_pg_config_var(PG_VERSION_STRING --version)
message(STATUS "PostgreSQL: ${PG_VERSION_STRING} (server headers ${PG_INCLUDEDIR_SERVER})")
set(PG_REGRESS "${PG_PKGLIBDIR}/pgxs/src/test/regress/pg_regress")
