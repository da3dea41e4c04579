# Writes OUT: one function per name of static_names.txt (IN), each
# returning its index, and the tables test_static_names.c walks.
file(STRINGS ${IN} lines)
set(defs "/* Generated from static_names.txt by gen_static_names.cmake. */\n")
set(fns "")
set(names "")
set(i 0)
foreach(name ${lines})
  if(name MATCHES "^#" OR name STREQUAL "")
    continue()
  endif()
  string(APPEND defs "int ${name}(void);\nint ${name}(void) { return ${i}; }\n")
  string(APPEND fns "    ${name},\n")
  string(APPEND names "    \"${name}\",\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND defs "typedef int (*name_fn)(void);\n"
       "extern const name_fn static_names_fns[];\n"
       "const name_fn static_names_fns[] = {\n${fns}};\n"
       "extern const char *const static_names[];\n"
       "const char *const static_names[] = {\n${names}};\n"
       "extern const int static_names_count;\n"
       "const int static_names_count = ${i};\n")
file(WRITE ${OUT} "${defs}")
