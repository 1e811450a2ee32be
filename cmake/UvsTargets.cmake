# SPDX-License-Identifier: MIT
# Helpers that give every uvswitch target the same warnings, sanitizers and layout.

set(UVS_WARNINGS -Wall -Wextra -Werror -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  list(APPEND UVS_WARNINGS -Wshadow=local)  # clang has no -Wshadow=local
endif()

if(UVS_SANITIZE)
  set(UVS_SAN_FLAGS -fsanitize=${UVS_SANITIZE} -fno-omit-frame-pointer)
  if(UVS_SANITIZE MATCHES "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # Virtqueue code orders guest-shared memory with fences: the other side is another process,
    # which TSan cannot see anyway. GCC warns that TSan ignores fences; keep that from -Werror.
    list(APPEND UVS_SAN_FLAGS -Wno-tsan)
  endif()
  if(UVS_SANITIZE MATCHES "undefined")
    # A UBSan finding must fail the test, not scroll past.
    list(APPEND UVS_SAN_FLAGS -fno-sanitize-recover=all)
  endif()
  add_compile_options(${UVS_SAN_FLAGS})
  add_link_options(${UVS_SAN_FLAGS})
endif()

# uvs_apply_defaults(target): warnings as errors and the repo root on the include path,
# so includes read "eventloop/event_loop.h" and a wrong-way include is visible in review.
function(uvs_apply_defaults target)
  target_compile_options(${target} PRIVATE ${UVS_WARNINGS})
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
endfunction()

# uvs_module(name DEPS ...): a static library built from every .cc directly in the
# calling folder. The folder's CMakeLists names its dependencies; nothing else may.
function(uvs_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  if(srcs)
    add_library(${name} STATIC ${srcs})
    uvs_apply_defaults(${name})
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  else()
    # A folder with headers only: an interface target, so its dependents still name it and the
    # dependency graph stays the one the CMakeLists files declare.
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
  add_library(uvs::${name} ALIAS ${name})
  # Which library a folder's sources are in, for targets that name sources (tests/fuzz).
  file(RELATIVE_PATH dir ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  set_property(GLOBAL PROPERTY UVS_MODULE_OF_${dir} uvs::${name})
endfunction()
