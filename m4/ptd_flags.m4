# ptd_flags.m4 - compiler flag checks for ptdkit (written for this project).

# PTD_ADD_CFLAG(VAR, FLAG): append FLAG to VAR when the C compiler accepts it
# (with -Werror, so that a flag the compiler only warns about is left out).
AC_DEFUN([PTD_ADD_CFLAG], [
  AS_VAR_PUSHDEF([ptd_cv], [ptd_cv_cflag_$2])
  AC_CACHE_CHECK([whether $CC accepts $2], [ptd_cv], [
    ptd_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $2"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
                      [AS_VAR_SET([ptd_cv], [yes])], [AS_VAR_SET([ptd_cv], [no])])
    CFLAGS=$ptd_save_CFLAGS])
  AS_VAR_IF([ptd_cv], [yes], [$1="$$1 $2"])
  AS_VAR_POPDEF([ptd_cv])
])

# PTD_REQUIRE_PKG(VAR, MODULE, LIB, FUNC, DEBIAN-PACKAGE): pkg-config first, then a plain
# library search, then a clear error naming the Debian package.
AC_DEFUN([PTD_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [], [
    AC_CHECK_LIB([$3], [$4], [$1_LIBS="-l$3"; $1_CFLAGS=""],
      [AC_MSG_ERROR([$2 not found: install the Debian package $5 (apt-get install $5)])])
  ])
])
