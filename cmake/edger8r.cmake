# vouch-edger8r, the EDL stub generator (src/tee/edger8r), and
# vouch_edl_generate() to run it at build time:
#
#   vouch_edl_generate(EDL <file.edl> OUTDIR <dir> [NAME <name>]
#                      HOST_SOURCES <var> ENCLAVE_SOURCES <var>)
#
# writes <dir>/<name>_u.{h,c} (host) and <dir>/<name>_t.{h,c} (enclave) when
# the EDL file or the generator changes, and sets <var>s to the generated
# files for add_executable/add_library. NAME defaults to the EDL file name
# without extension. Add <dir> to the consuming targets' include directories.
# Generated host sources use libvouch (link vouch); enclave sources use only
# the headers vouch/enclave_rt.h, vouch/err.h and vouch/limits.h.

add_executable(vouch-edger8r ${CMAKE_SOURCE_DIR}/src/tee/edger8r/main.c)
target_link_libraries(vouch-edger8r PRIVATE vouch)
set_target_properties(vouch-edger8r PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
vouch_strict_flags(vouch-edger8r)

function(vouch_edl_generate)
  cmake_parse_arguments(ARG "" "EDL;OUTDIR;NAME;HOST_SOURCES;ENCLAVE_SOURCES" "" ${ARGN})
  if(NOT ARG_EDL OR NOT ARG_OUTDIR)
    message(FATAL_ERROR "vouch_edl_generate: EDL and OUTDIR are required")
  endif()
  get_filename_component(_edl "${ARG_EDL}" ABSOLUTE)
  if(ARG_NAME)
    set(_name ${ARG_NAME})
  else()
    get_filename_component(_name "${_edl}" NAME_WE)
  endif()
  set(_dir "${ARG_OUTDIR}")
  set(_u "${_dir}/${_name}_u.h" "${_dir}/${_name}_u.c")
  set(_t "${_dir}/${_name}_t.h" "${_dir}/${_name}_t.c")
  add_custom_command(
    OUTPUT ${_u} ${_t}
    COMMAND ${CMAKE_COMMAND} -E make_directory "${_dir}"
    COMMAND $<TARGET_FILE:vouch-edger8r> --trusted-dir "${_dir}" --untrusted-dir "${_dir}"
            --name ${_name} "${_edl}"
    DEPENDS "${_edl}" vouch-edger8r
    COMMENT "vouch-edger8r ${_name}.edl"
    VERBATIM)
  if(ARG_HOST_SOURCES)
    set(${ARG_HOST_SOURCES} ${_u} PARENT_SCOPE)
  endif()
  if(ARG_ENCLAVE_SOURCES)
    set(${ARG_ENCLAVE_SOURCES} ${_t} PARENT_SCOPE)
  endif()
endfunction()

# tests/unit/test_edl.c: stubs generated from tests/unit/edl/edl_test.edl. The
# enclave half is a module the test dlopen()s (as the loader would), the host
# half is linked into the test, which exports fakes of the vouch_rt_* runtime
# and of vouch_enclave_ecall that move the bytes in-process. Called from
# tests/CMakeLists.txt so the custom command lives in the consuming directory.
function(vouch_edl_test_setup test_target)
  set(_dir ${CMAKE_CURRENT_BINARY_DIR}/edl_gen)
  set(_src ${CMAKE_SOURCE_DIR}/tests/unit/edl)
  vouch_edl_generate(EDL ${_src}/edl_test.edl OUTDIR ${_dir}
                     HOST_SOURCES _host ENCLAVE_SOURCES _encl)
  add_library(test_edl_enclave MODULE ${_encl} ${_src}/edl_enclave.c)
  target_include_directories(test_edl_enclave PRIVATE ${_dir} ${_src} ${CMAKE_SOURCE_DIR}/include)
  set_target_properties(test_edl_enclave PROPERTIES C_VISIBILITY_PRESET hidden)
  # A hardened build links executables with -pie, which does not belong on a
  # shared object's link line.
  get_target_property(_lo test_edl_enclave LINK_OPTIONS)
  if(_lo)
    list(REMOVE_ITEM _lo -pie)
    set_target_properties(test_edl_enclave PROPERTIES LINK_OPTIONS "${_lo}")
  endif()
  vouch_strict_flags(test_edl_enclave)
  target_sources(${test_target} PRIVATE ${_host})
  target_include_directories(${test_target} PRIVATE ${_dir} ${_src})
  set_target_properties(${test_target} PROPERTIES ENABLE_EXPORTS ON)
  target_link_libraries(${test_target} PRIVATE ${CMAKE_DL_LIBS})
  add_dependencies(${test_target} test_edl_enclave)
  target_compile_definitions(${test_target} PRIVATE
                             EDL_TEST_ENCLAVE="$<TARGET_FILE:test_edl_enclave>")

  # tests/unit/test_edl_loader.c: the same interface through the real
  # loader (cmake/tee.cmake). Its own copy of the stubs, so no two
  # independent targets share one custom command.
  if(TARGET test_edl_loader AND TARGET vouch-enclave-loader AND COMMAND vouch_add_enclave)
    set(_ldir ${CMAKE_CURRENT_BINARY_DIR}/edl_gen_loader)
    vouch_edl_generate(EDL ${_src}/edl_test.edl OUTDIR ${_ldir}
                       HOST_SOURCES _lhost ENCLAVE_SOURCES _lencl)
    vouch_add_enclave(test_edl_loader_enclave SOURCES ${_lencl} ${_src}/edl_enclave.c
                      INCLUDE_DIRS ${_ldir} ${_src})
    target_sources(test_edl_loader PRIVATE ${_lhost})
    target_include_directories(test_edl_loader PRIVATE ${_ldir} ${_src})
    add_dependencies(test_edl_loader test_edl_loader_enclave vouch-enclave-loader)
    target_compile_definitions(test_edl_loader PRIVATE
      EDL_LOADER_ENCLAVE_SO="$<TARGET_FILE:test_edl_loader_enclave>"
      VOUCH_TEST_LOADER="$<TARGET_FILE:vouch-enclave-loader>")
  endif()
endfunction()
