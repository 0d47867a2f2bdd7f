# Warnings (and, with GRAFT_WARNINGS_AS_ERRORS, errors) and sanitizers for graft's targets.
function(graft_set_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-unused-parameter>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${GRAFT_WARNINGS_AS_ERRORS}>>:-Werror>)
  if(GRAFT_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${GRAFT_SANITIZE} -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=${GRAFT_SANITIZE})
  endif()
endfunction()
