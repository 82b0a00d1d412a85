# The enclave SDK's software backend: vouch-enclave-loader and the
# vouch_add_enclave() helper (included from the top-level CMakeLists.txt).
#
# vouch-enclave-loader links libvouch but exports only the vouch_rt_* symbols
# (src/tee/loader/exports.list) to the enclave .so it dlopen()s. It is built
# next to the `vouch` binary, where libvouch looks for it by default.
file(GLOB VOUCH_LOADER_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/tee/loader/*.c)
add_executable(vouch-enclave-loader ${VOUCH_LOADER_SOURCES})
target_link_libraries(vouch-enclave-loader PRIVATE vouch ${CMAKE_DL_LIBS})
target_include_directories(vouch-enclave-loader PRIVATE ${CMAKE_SOURCE_DIR}/src)
target_link_options(vouch-enclave-loader PRIVATE
  "-Wl,--dynamic-list=${CMAKE_SOURCE_DIR}/src/tee/loader/exports.list")
set_target_properties(vouch-enclave-loader PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
  LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/tee/loader/exports.list)
if(VOUCH_SANITIZE)
  # The sandbox allows the few extra system calls the sanitizer runtime makes
  # (src/tee/loader/sandbox.c).
  target_compile_definitions(vouch-enclave-loader PRIVATE VOUCH_LOADER_SANITIZE)
endif()
vouch_strict_flags(vouch-enclave-loader)
# Programs that start enclaves expect the loader next to them.
add_dependencies(vouch-cli vouch-enclave-loader)

# vouch_add_enclave(NAME SOURCES src... [INCLUDE_DIRS dir...])
#
# Builds the enclave shared object NAME.so from SOURCES: position-independent,
# linked against nothing of libvouch (vouch_rt_* stay undefined and are bound
# to the loader at dlopen time), with the public headers on the include path
# for enclave_rt.h. Sign the result with `vouch enclave sign` before loading.
function(vouch_add_enclave name)
  cmake_parse_arguments(VAE "" "" "SOURCES;INCLUDE_DIRS" ${ARGN})
  if(NOT VAE_SOURCES)
    message(FATAL_ERROR "vouch_add_enclave(${name}): SOURCES is required")
  endif()
  add_library(${name} SHARED ${VAE_SOURCES})
  set_target_properties(${name} PROPERTIES PREFIX "" POSITION_INDEPENDENT_CODE ON)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${VAE_INCLUDE_DIRS})
  target_compile_definitions(${name} PRIVATE _DEFAULT_SOURCE)
  # Undefined vouch_rt_* are resolved against the loader; refuse copy
  # relocations and lazy binding so a missing symbol fails at load time.
  # VOUCH_HARDEN adds -pie to every link (directory LINK_OPTIONS, copied to
  # the target): it does not belong on a shared object's link line.
  get_target_property(_lo ${name} LINK_OPTIONS)
  if(_lo)
    list(REMOVE_ITEM _lo -pie)
    set_target_properties(${name} PROPERTIES LINK_OPTIONS "${_lo}")
  endif()
  target_link_options(${name} PRIVATE -Wl,-z,now -Wl,-z,noexecstack)
  vouch_strict_flags(${name})
endfunction()

# The runtime's own test enclave (tests/unit/test_enclave_rt.c and
# bench/bench_enclave.c), wired to them once tests/ and bench/ are processed.
vouch_add_enclave(vouch_test_enclave SOURCES ${CMAKE_SOURCE_DIR}/tests/enclave/test_enclave.c)
# Constructors that run during dlopen, under stage 1 of the sandbox
# (tests/unit/test_enclave_ctor.c): one harmless, one that opens a socket.
vouch_add_enclave(vouch_test_enclave_ctor_ok
                  SOURCES ${CMAKE_SOURCE_DIR}/tests/enclave/test_enclave_ctor.c)
vouch_add_enclave(vouch_test_enclave_ctor_hostile
                  SOURCES ${CMAKE_SOURCE_DIR}/tests/enclave/test_enclave_ctor.c)
target_compile_definitions(vouch_test_enclave_ctor_hostile PRIVATE TE_CTOR_HOSTILE)
function(_vouch_tee_wire_tests)
  if(TARGET test_enclave_rt)
    target_compile_definitions(test_enclave_rt PRIVATE
      VOUCH_TEST_ENCLAVE_SO="$<TARGET_FILE:vouch_test_enclave>"
      VOUCH_TEST_LOADER="$<TARGET_FILE:vouch-enclave-loader>")
    add_dependencies(test_enclave_rt vouch_test_enclave vouch-enclave-loader)
  endif()
  if(TARGET test_enclave_ctor)
    target_compile_definitions(test_enclave_ctor PRIVATE
      VOUCH_TEST_CTOR_OK_SO="$<TARGET_FILE:vouch_test_enclave_ctor_ok>"
      VOUCH_TEST_CTOR_HOSTILE_SO="$<TARGET_FILE:vouch_test_enclave_ctor_hostile>"
      VOUCH_TEST_LOADER="$<TARGET_FILE:vouch-enclave-loader>")
    add_dependencies(test_enclave_ctor vouch_test_enclave_ctor_ok vouch_test_enclave_ctor_hostile
                     vouch-enclave-loader)
  endif()
  # The confidential-VM backend against an imitation configfs-tsm.
  if(TARGET test_enclave_cvm)
    target_compile_definitions(test_enclave_cvm PRIVATE
      VOUCH_TEST_ENCLAVE_SO="$<TARGET_FILE:vouch_test_enclave>"
      VOUCH_TEST_LOADER="$<TARGET_FILE:vouch-enclave-loader>")
    add_dependencies(test_enclave_cvm vouch_test_enclave vouch-enclave-loader)
  endif()
  if(TARGET bench_enclave)
    target_compile_definitions(bench_enclave PRIVATE
      VOUCH_BENCH_ENCLAVE_SO="$<TARGET_FILE:vouch_test_enclave>"
      VOUCH_BENCH_LOADER="$<TARGET_FILE:vouch-enclave-loader>")
    add_dependencies(bench_enclave vouch_test_enclave vouch-enclave-loader)
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _vouch_tee_wire_tests)

# The sample enclave application (src/tee/sample, docs/enclave-sdk.md): the
# enclave built from sample.edl with the generated stubs, signed with a
# development key kept in the build tree, and its host program
# vouch-sample-host next to `vouch`. Signing needs vouch_sign_enclave from
# cmake/tee-sign.cmake, which is included after this file: hence deferred.
function(_vouch_tee_sample)
  if(NOT COMMAND vouch_edl_generate OR NOT COMMAND vouch_sign_enclave)
    return()
  endif()
  set(_src ${CMAKE_SOURCE_DIR}/src/tee/sample)
  set(_gen ${CMAKE_BINARY_DIR}/sample_gen)
  vouch_edl_generate(EDL ${_src}/sample.edl OUTDIR ${_gen}
                     HOST_SOURCES _host ENCLAVE_SOURCES _encl)
  vouch_add_enclave(vouch_sample_enclave SOURCES ${_encl} ${_src}/sample_enclave.c
                    ${_src}/sample_tls_enclave.c INCLUDE_DIRS ${_gen})
  add_executable(vouch-sample-host ${_src}/sample_host.c ${_src}/sample_attest.c
                 ${_src}/sample_tls.c ${_host})
  target_include_directories(vouch-sample-host PRIVATE ${_gen})
  target_link_libraries(vouch-sample-host PRIVATE vouch)
  set_target_properties(vouch-sample-host PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
  add_dependencies(vouch-sample-host vouch-enclave-loader)
  vouch_strict_flags(vouch-sample-host)
  vouch_sign_enclave(TARGET vouch_sample_enclave
                     KEY ${CMAKE_BINARY_DIR}/enclave-dev-key.pem
                     CONFIG ${_src}/sample.json
                     OUT ${CMAKE_BINARY_DIR}/vouch_sample.enclave)
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _vouch_tee_sample)
