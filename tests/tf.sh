#!/bin/sh
. "$TOP_SRCDIR/tests/lib.sh"
finish
