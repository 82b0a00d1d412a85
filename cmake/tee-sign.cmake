# vouch_sign_enclave(TARGET <so-target> KEY <key.pem> CONFIG <config.json>
#                    OUT <image> [IMAGE_TARGET <name>])
#
# Signs the enclave shared object built by <so-target> (see vouch_add_enclave
# in cmake/tee.cmake) into the signed image <image> with `vouch enclave sign`
# (include/vouch/enclave_image.h), whenever the .so, the key, the config or
# the `vouch` binary changes. The image is built by the target IMAGE_TARGET
# (default <so-target>_image, part of ALL); depend on it, and read the path
# from that target's VOUCH_ENCLAVE_IMAGE property.
#
# KEY is the developer's EC P-256 signing key (mode 0600). When it does not
# exist and lies inside the build tree, a development key is generated there
# with `vouch enclave keygen` on first build: fine for tests and the demo,
# but every fresh build tree then has another signer id. Release builds pass
# a key kept outside the build tree.
function(vouch_sign_enclave)
  cmake_parse_arguments(VSE "" "TARGET;KEY;CONFIG;OUT;IMAGE_TARGET" "" ${ARGN})
  foreach(arg TARGET KEY CONFIG OUT)
    if(NOT VSE_${arg})
      message(FATAL_ERROR "vouch_sign_enclave: ${arg} is required")
    endif()
  endforeach()
  if(NOT TARGET ${VSE_TARGET})
    message(FATAL_ERROR "vouch_sign_enclave: ${VSE_TARGET} is not a target")
  endif()
  if(NOT VSE_IMAGE_TARGET)
    set(VSE_IMAGE_TARGET ${VSE_TARGET}_image)
  endif()
  get_filename_component(key ${VSE_KEY} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})
  get_filename_component(config ${VSE_CONFIG} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  get_filename_component(out ${VSE_OUT} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_BINARY_DIR})

  if(NOT EXISTS ${key})
    file(RELATIVE_PATH rel ${CMAKE_BINARY_DIR} ${key})
    if(rel MATCHES "^\\.\\.")
      message(FATAL_ERROR "vouch_sign_enclave: signing key ${key} does not exist "
                          "(create it with `vouch enclave keygen --out ${key}`)")
    endif()
    # Several images may share one development key: generate it once.
    get_property(done GLOBAL PROPERTY VOUCH_ENCLAVE_DEVKEY_${key})
    if(NOT done)
      add_custom_command(OUTPUT ${key}
        # vouch-cli is a dependency, so this reruns whenever it is relinked:
        # keep an existing key (keygen refuses to overwrite) and just mark it
        # up to date.
        COMMAND sh -c "test -f \"$1\" || \"$2\" enclave keygen --out \"$1\" || exit 1; touch \"$1\""
                keygen ${key} $<TARGET_FILE:vouch-cli>
        DEPENDS vouch-cli
        COMMENT "Generating development enclave signing key ${key}"
        VERBATIM)
      set_property(GLOBAL PROPERTY VOUCH_ENCLAVE_DEVKEY_${key} TRUE)
    endif()
  endif()

  add_custom_command(OUTPUT ${out}
    COMMAND $<TARGET_FILE:vouch-cli> enclave sign --key ${key} --config ${config}
            --out ${out} $<TARGET_FILE:${VSE_TARGET}>
    DEPENDS ${VSE_TARGET} vouch-cli ${config} ${key}
    COMMENT "Signing enclave ${VSE_TARGET} -> ${out}"
    VERBATIM)
  add_custom_target(${VSE_IMAGE_TARGET} ALL DEPENDS ${out})
  set_target_properties(${VSE_IMAGE_TARGET} PROPERTIES VOUCH_ENCLAVE_IMAGE ${out})
endfunction()
