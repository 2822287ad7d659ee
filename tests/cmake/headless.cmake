# SPDX-License-Identifier: GPL-3.0-or-later
# agentdeck-host is the engine alone: no symbol of the desktop's link, models or window.
# Usage: cmake -DNM=... -DBINARY=... -P headless.cmake
execute_process(COMMAND ${NM} -C ${BINARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE result)
if(NOT result EQUAL 0)
    message(FATAL_ERROR "${NM} could not read ${BINARY}")
endif()
string(REGEX MATCHALL "[^\n]*(Fleet::|ConsoleModel::|AgentTreeModel::|RemoteLink::|LocalLink::|LinkSession::|MainWindow::|QWidget)[^\n]*"
       found "${symbols}")
list(LENGTH found count)
if(count GREATER 0)
    list(SUBLIST found 0 5 first)
    string(REPLACE ";" "\n" first "${first}")
    message(FATAL_ERROR "${BINARY} carries ${count} desktop symbols, for example:\n${first}")
endif()
string(REGEX MATCHALL "HostServer::" engine "${symbols}")
if(NOT engine)
    message(FATAL_ERROR "${BINARY} has no engine symbols: is it the host?")
endif()
message(STATUS "${BINARY}: the engine alone")
