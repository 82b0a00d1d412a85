include(CheckCCompilerFlag)

set(VOUCH_WARN_FLAGS
  -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes
  -Wmissing-prototypes -Wold-style-definition -Wvla -Wimplicit-fallthrough
  -Wundef -Wwrite-strings -Wpointer-arith -fno-strict-aliasing -fno-common)
if(VOUCH_WERROR)
  list(APPEND VOUCH_WARN_FLAGS -Werror)
endif()

if(VOUCH_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(VOUCH_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "VOUCH_FUZZ needs clang")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(VOUCH_HARDEN)
  add_compile_options(-fstack-protector-strong -fstack-clash-protection -fPIE)
  if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
    add_compile_options(-D_FORTIFY_SOURCE=3)
  endif()
  check_c_compiler_flag(-fcf-protection=full VOUCH_HAVE_CF_PROT)
  if(VOUCH_HAVE_CF_PROT)
    add_compile_options(-fcf-protection=full)
  endif()
  check_c_compiler_flag(-ftrivial-auto-var-init=zero VOUCH_HAVE_AUTO_INIT)
  if(VOUCH_HAVE_AUTO_INIT)
    add_compile_options(-ftrivial-auto-var-init=zero)
  endif()
  add_link_options(-pie -Wl,-z,relro,-z,now,-z,noexecstack)
endif()

function(vouch_strict_flags target)
  target_compile_options(${target} PRIVATE ${VOUCH_WARN_FLAGS})
endfunction()
