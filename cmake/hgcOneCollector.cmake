# One collector per process.  hgc::hgc, hgc::hgc_static and hgc::gc each
# carry a different INTERFACE_HGC_COLLECTOR, and COMPATIBLE_INTERFACE_STRING
# makes CMake refuse, when it generates, any target whose link closure
# holds two of them.  Before that, at the end of the top-level directory,
# hgc_check_one_collector names the target and the two libraries in a
# plain sentence, for the targets the project defines and the libraries
# they link directly or through other targets of the project (CMake 3.19
# and later: cmake_language(DEFER)).

function(_hgc_collectors_of target out visited)
  if(NOT TARGET "${target}" OR "${target}" IN_LIST ${visited})
    set(${out} "" PARENT_SCOPE)
    return()
  endif()
  list(APPEND ${visited} "${target}")
  set(${visited} "${${visited}}" PARENT_SCOPE)
  get_target_property(aliased "${target}" ALIASED_TARGET)
  if(aliased)
    set(target "${aliased}")
  endif()
  set(found "")
  if(target MATCHES "^hgc::(hgc|hgc_static|gc)$")
    list(APPEND found "${target}")
  endif()
  get_target_property(type "${target}" TYPE)
  set(links "")
  if(NOT type STREQUAL "INTERFACE_LIBRARY")
    get_target_property(direct "${target}" LINK_LIBRARIES)
    if(direct)
      list(APPEND links ${direct})
    endif()
  endif()
  get_target_property(iface "${target}" INTERFACE_LINK_LIBRARIES)
  if(iface)
    list(APPEND links ${iface})
  endif()
  foreach(lib IN LISTS links)
    # Generator expressions are left to COMPATIBLE_INTERFACE_STRING.
    if(lib MATCHES "^\\$<" OR NOT TARGET "${lib}")
      continue()
    endif()
    _hgc_collectors_of("${lib}" sub ${visited})
    list(APPEND found ${sub})
  endforeach()
  list(REMOVE_DUPLICATES found)
  set(${out} "${found}" PARENT_SCOPE)
  set(${visited} "${${visited}}" PARENT_SCOPE)
endfunction()

function(_hgc_targets_in dir out)
  get_property(targets DIRECTORY "${dir}" PROPERTY BUILDSYSTEM_TARGETS)
  get_property(subdirs DIRECTORY "${dir}" PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    _hgc_targets_in("${sub}" more)
    list(APPEND targets ${more})
  endforeach()
  set(${out} "${targets}" PARENT_SCOPE)
endfunction()

function(hgc_check_one_collector)
  _hgc_targets_in("${CMAKE_SOURCE_DIR}" targets)
  foreach(t IN LISTS targets)
    set(visited "")
    _hgc_collectors_of("${t}" found visited)
    list(LENGTH found n)
    if(n GREATER 1)
      list(JOIN found " and " names)
      message(FATAL_ERROR
        "hgc: target '${t}' links ${names}.  Each is a whole garbage collector "
        "with its own heap, and one process can hold only one: link hgc::hgc "
        "(or hgc::hgc_static) for hgc's interface, or hgc::gc alone for the "
        "Boehm GC interface, which exports hgc's functions too.")
    endif()
  endforeach()
endfunction()

get_property(_hgc_check_set GLOBAL PROPERTY HGC_ONE_COLLECTOR_CHECK)
if(NOT _hgc_check_set AND CMAKE_VERSION VERSION_GREATER_EQUAL 3.19)
  set_property(GLOBAL PROPERTY HGC_ONE_COLLECTOR_CHECK TRUE)
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL hgc_check_one_collector)
endif()
unset(_hgc_check_set)
