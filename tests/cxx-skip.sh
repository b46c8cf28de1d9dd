#!/bin/sh
# cxx-skip.sh - stands in for test_cxx when configure found no C++ compiler.
echo "SKIP: no C++ compiler was found by configure: ptd.h is not tested from C++ (install g++)"
exit 77
