# SPDX-License-Identifier: GPL-3.0-or-later
# Build options shared by every target: warnings, Qt defines, sanitizers, fuzzing, scalar scans.
add_library(agentdeck_options INTERFACE)
target_compile_options(agentdeck_options INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
    -Wformat=2 -Wimplicit-fallthrough)
if(AGENTDECK_WERROR)
    target_compile_options(agentdeck_options INTERFACE -Werror)
endif()
target_compile_definitions(agentdeck_options INTERFACE
    QT_NO_CAST_FROM_ASCII
    QT_NO_CAST_TO_ASCII
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
    QT_NO_URL_CAST_FROM_STRING
    QT_USE_QSTRINGBUILDER
    QT_NO_FOREACH
    AGENTDECK_VERSION="${PROJECT_VERSION}")
if(AGENTDECK_SANITIZE)
    target_compile_options(agentdeck_options INTERFACE
        -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(agentdeck_options INTERFACE -fsanitize=address,undefined)
endif()
if(AGENTDECK_FUZZ)
    # Coverage for libFuzzer in every library; only the fuzz targets link libFuzzer itself.
    target_compile_options(agentdeck_options INTERFACE
        -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(agentdeck_options INTERFACE -fsanitize=address,undefined)
endif()
if(AGENTDECK_TSAN)
    if(AGENTDECK_SANITIZE OR AGENTDECK_FUZZ)
        message(FATAL_ERROR "AGENTDECK_TSAN cannot be combined with AGENTDECK_SANITIZE or AGENTDECK_FUZZ")
    endif()
    target_compile_options(agentdeck_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(agentdeck_options INTERFACE -fsanitize=thread)
endif()
if(AGENTDECK_SANITIZE OR AGENTDECK_FUZZ OR AGENTDECK_TSAN)
    # Line tables are all a sanitizer's report needs (function, file and line of each
    # frame); full debug information makes these builds a third slower.
    target_compile_options(agentdeck_options INTERFACE -g1)
endif()
if(AGENTDECK_SCALAR)
    target_compile_definitions(agentdeck_options INTERFACE AGENTDECK_SCALAR)
endif()
