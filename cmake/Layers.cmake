# SPDX-License-Identifier: GPL-3.0-or-later
# The layers: each is a static library built from one folder. A layer's sources
# may include headers from its own folder and from the layers it links (directly
# or through them), nothing else; configuring fails on an include that breaks
# the rule, naming the file and the folder it reached into.

function(agentdeck_add_layer target)
    cmake_parse_arguments(ARG "" "FOLDER" "SOURCES;LAYERS;QT" ${ARGN})
    qt_add_library(${target} STATIC ${ARG_SOURCES})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} PUBLIC ${ARG_LAYERS} ${ARG_QT} PRIVATE agentdeck_options)

    set(allowed ${ARG_FOLDER})
    foreach(layer IN LISTS ARG_LAYERS)
        get_target_property(reach ${layer} AGENTDECK_REACH)
        list(APPEND allowed ${reach})
    endforeach()
    list(REMOVE_DUPLICATES allowed)
    set_target_properties(${target} PROPERTIES AGENTDECK_REACH "${allowed}")

    foreach(source IN LISTS ARG_SOURCES)
        file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/${source} includes REGEX "^#include \"[^\"]+/[^\"/]+\"")
        foreach(line IN LISTS includes)
            string(REGEX REPLACE "^#include \"(.+)/[^\"/]+\".*$" "\\1" folder "${line}")
            if(NOT folder IN_LIST allowed)
                message(FATAL_ERROR "${ARG_FOLDER}/${source} includes from ${folder}, which ${target} does not link "
                                    "(it may use: ${allowed}). See docs/architecture.md.")
            endif()
        endforeach()
    endforeach()
endfunction()
