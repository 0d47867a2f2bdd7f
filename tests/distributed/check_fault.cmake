# Runs a fault program under mpirun and checks that the job failed, in time, saying why:
#   cmake -DMPIRUN=... -DPROGRAM=... -DMODE=... -DEXPECT=<regex> -P check_fault.cmake
execute_process(
  COMMAND ${MPIRUN} -np 2 ${PROGRAM} ${MODE}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
message("${out}${err}")
if(status EQUAL 0)
  message(FATAL_ERROR "the job succeeded, but rank 1 failed on purpose (${MODE})")
endif()
if(status MATCHES "timeout")
  message(FATAL_ERROR "the job hung: still running after 60 s (${MODE})")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "the job failed (${status}) without saying \"${EXPECT}\" (${MODE})")
endif()
