#!/bin/sh
# output.sh - where the tools' files go and how they get there: a temporary file renamed onto
# a regular file or a new path (its mode kept), a device, FIFO or a link's target written in
# place; write errors and truncated images are failures; no temporary file and no gnuplot
# outlives a signal; --format decides what is written, -o - is standard output, and two
# outputs on one file are a usage error.
#
# Device nodes are made here (mknod, as root) rather than writing to /dev/null or /dev/full:
# a writer that replaces its target would otherwise replace the machine's own device.
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"
ulimit -c 0 # SIGQUIT dumps core by default: no core file in the scratch directory
MNT="$TMP/keep-mnt"
trap 'umount "$MNT" 2>/dev/null || true; rm -rf "$TMP"' EXIT INT TERM

# no_temps NAME DIR: no .ptdtmp-* file and no .ptdplot-* directory in DIR
no_temps() {
  t=$(ls -A "$2" | grep -e '^\.ptdtmp-' -e '^\.ptdplot-' || true)
  if [ -n "$t" ]; then fail "$1: temporaries left in $2: $t"; (cd "$2" && rm -rf $t); else pass "$1: no temporary left"; fi
}
mode() { stat -c %a "$1"; }
PS="grcar -n 8 -eps 1e-1 --grid 6 --quiet"
SWEEP="hippo-legs -n 8 --points 2 --quiet"
TINY="--task listops --min-len 10 --max-len 40 --max-depth 4 --width 8 --state 8 --layers 1 --train-subset 96 --test-subset 64 --val 32 --epochs 1 --threads 2 --quiet"
HAVE_GP=0; command -v gnuplot >/dev/null 2>&1 && HAVE_GP=1

# --- regular files: replaced through a temporary, mode kept -------------------------------
umask 022
printf 'old\n' > keep-m.tsv; chmod 600 keep-m.tsv
expect 0 "data onto a 0600 file" pspec $PS -o keep-m.tsv
[ "$(mode keep-m.tsv)" = 600 ] && pass "a 0600 file stays 0600" || fail "mode became $(mode keep-m.tsv)"
grep -q '^# columns: x y sigma_min err$' keep-m.tsv && pass "its contents replaced" || fail "contents not replaced"
(umask 027; pspec $PS -o keep-new.gp)
[ "$(mode keep-new.gp)" = 640 ] && pass "a new file gets 0666 & ~umask" || fail "new file mode $(mode keep-new.gp) under umask 027"
printf 'old\n' > keep-s.ptd; chmod 640 keep-s.ptd
expect 0 "ptd-sweep --save onto a 0640 file" ptd-sweep $SWEEP --save keep-s.ptd --format tsv
[ "$(mode keep-s.ptd)" = 640 ] && grep -q . keep-s.ptd && ! grep -q '^old$' keep-s.ptd \
  && pass "--save keeps the mode" || fail "--save mode $(mode keep-s.ptd)"
if [ $HAVE_GP = 1 ]; then
  printf 'old\n' > keep-i.png; chmod 600 keep-i.png
  expect 0 "image onto a 0600 file" pspec $PS -o keep-i.png
  [ "$(mode keep-i.png)" = 600 ] && pass "a 0600 image stays 0600" || fail "image mode became $(mode keep-i.png)"
  (umask 077; pspec $PS -o keep-new.svg)
  [ "$(mode keep-new.svg)" = 600 ] && pass "a new image gets 0666 & ~umask" || fail "new image mode $(mode keep-new.svg)"
fi
no_leftovers "regular files"

# --- symbolic links: the target is written, the link stays ---------------------------------
mkdir keep-sub
printf 'old\n' > keep-sub/t.tsv
ln -s keep-sub/t.tsv keep-l.tsv
expect 0 "data through a symlink" pspec $PS -o keep-l.tsv
[ -L keep-l.tsv ] && pass "the link is still a link" || fail "the link was replaced"
grep -q '^# columns' keep-sub/t.tsv && pass "its target was written" || fail "the target was not written"
ln -s keep-sub/new.gp keep-dangling.gp
expect 0 "a dangling symlink" pspec $PS -o keep-dangling.gp
[ -L keep-dangling.gp ] && [ -f keep-sub/new.gp ] && pass "a dangling link's target is created" || fail "dangling link"
ln -s keep-l.tsv keep-ll.tsv
expect 0 "a link to a link" ptd-sweep $SWEEP --save keep-ll.tsv --format tsv
[ -L keep-ll.tsv ] && [ -L keep-l.tsv ] && grep -q . keep-sub/t.tsv && ! grep -q '^# columns' keep-sub/t.tsv \
  && pass "both links kept, the last target written" || fail "link chain"
ln -s keep-loop2.gp keep-loop1.gp; ln -s keep-loop1.gp keep-loop2.gp
expect 1 "a symlink loop" pspec $PS -o keep-loop1.gp
if [ $HAVE_GP = 1 ]; then
  ln -s keep-sub/fig.png keep-fig.png
  expect 0 "image through a symlink" pspec $PS -o keep-fig.png
  [ -L keep-fig.png ] && head -c 4 keep-sub/fig.png | od -c | head -1 | grep -q 'P   N   G' \
    && pass "image written to the link's target" || fail "image through link"
  ln -s keep-sub/tx.tex keep-tx.tex
  expect 0 ".tex through a symlink" pspec $PS -o keep-tx.tex
  [ -L keep-tx.tex ] && [ -s keep-sub/tx.tex ] && [ -s keep-tx.pdf ] && pass ".tex to the link's target, its pdf beside the name given" \
    || fail ".tex through link: $(ls keep-sub | tr '\n' ' ')"
fi
no_temps "links" keep-sub
no_leftovers "links"

# --- devices and FIFOs: written in place ----------------------------------------------------
if mknod keep-null.tsv c 1 3 2>/dev/null && mknod keep-full.ptd c 1 7 2>/dev/null; then
  NULLDEV=keep-null.tsv; FULLDEV=keep-full.ptd
elif [ "$(id -u)" -ne 0 ]; then
  NULLDEV=/dev/null; FULLDEV=/dev/full # cannot be replaced without root
else
  NULLDEV=; FULLDEV=
  echo "SKIP: mknod not permitted as root: device tests"
fi
if [ -n "$NULLDEV" ]; then
  expect 0 "data into a device named .tsv" pspec $PS -o $NULLDEV
  [ -c $NULLDEV ] && pass "the device is still a device" || fail "the device was replaced"
  expect 1 "ptd-sweep --save into a full device" ptd-sweep $SWEEP --save $FULLDEV
  grep -q "$(printf 'No space left on device')" err.txt && pass "ENOSPC is reported" || fail "message: $(cat err.txt)"
  [ -c $FULLDEV ] && pass "the full device is still a device" || fail "the full device was replaced"
  expect 1 "ssm-train --save into a full device" ssm-train $TINY --save $FULLDEV
  [ -c $FULLDEV ] && pass "still a device after ssm-train" || fail "ssm-train replaced the device"
  expect 1 "pspec data into a full device" pspec $PS --format tsv -o $FULLDEV
  if [ $HAVE_GP = 1 ]; then
    if [ "$FULLDEV" = keep-full.ptd ]; then mknod keep-full.png c 1 7; FULLPNG=keep-full.png; else FULLPNG=; fi
    if [ -n "$FULLPNG" ]; then
      expect 1 "image into a full device" pspec $PS -o $FULLPNG
      [ -c $FULLPNG ] && pass "the image device is still a device" || fail "the image device was replaced"
    fi
  fi
fi
mkfifo keep-f.tsv
timeout 20 cat keep-f.tsv > keep-fifo.out &
reader=$!
expect 0 "data into a FIFO" timeout 20 pspec $PS -o keep-f.tsv
wait $reader || true
[ -p keep-f.tsv ] && pass "the FIFO is still a FIFO" || fail "the FIFO was replaced"
grep -q '^# columns: x y sigma_min err$' keep-fifo.out && pass "the reader got the data" || fail "the reader got: $(head -c 100 keep-fifo.out)"
if [ $HAVE_GP = 1 ]; then
  mkfifo keep-f.png
  timeout 20 cat keep-f.png > keep-fifo.png &
  reader=$!
  expect 0 "image into a FIFO" timeout 20 pspec $PS -o keep-f.png
  wait $reader || true
  [ -p keep-f.png ] && head -c 4 keep-fifo.png | od -c | head -1 | grep -q 'P   N   G' \
    && pass "the reader got the PNG" || fail "image into a FIFO"
fi
no_leftovers "devices and FIFOs"

# --- --format decides, -o - is standard output ------------------------------------------------
expect 0 "--format tsv -o /dev/null" pspec $PS --format tsv -o /dev/null
[ -c /dev/null ] && pass "/dev/null is still a device" || fail "/dev/null was replaced"
expect 0 "-o /dev/null takes the default format" pspec $PS -o /dev/null
expect 0 "--format tsv -o FILE.txt" pspec $PS --format tsv -o keep-t.txt
grep -q '^# columns: x y sigma_min err$' keep-t.txt && pass "tsv into .txt" || fail ".txt: $(head -2 keep-t.txt)"
expect 0 "--format gnuplot -o FILE.dat" pspec $PS --format gnuplot -o keep-g.dat
grep -q '^\$sigma << EOD' keep-g.dat && pass "a script into .dat when asked for" || fail ".dat: $(head -2 keep-g.dat)"
expect 0 "--format tsv -o -" pspec $PS --format tsv -o -
grep -q '^# columns: x y sigma_min err$' out.txt && [ ! -e ./- ] && pass "-o - is standard output" || fail "-o -"
expect 0 "-o - default format" pspec $PS -o -
grep -q '^\$sigma << EOD' out.txt && pass "-o - writes the script" || fail "-o - script"
expect 0 "transient --format tsv -o /dev/null" transient grcar -n 6 --t-range 0:1 --points 5 --quiet --format tsv -o /dev/null
expect 0 "eigcond --format tsv -o FILE" eigcond grcar -n 6 --precision off --quiet --format tsv -o keep-e.out
grep -q '^# columns' keep-e.out && pass "eigcond tsv into .out" || fail "eigcond .out"
expect 2 "--format tsv into an image" pspec $PS --format tsv -o keep-x.png
expect 2 "unknown extension without --format" pspec $PS -o keep-x.jpg
no_leftovers "formats"

# --- two outputs on one file: a usage error -------------------------------------------------
expect 2 "ptd-sweep --save F -o F" ptd-sweep $SWEEP --save keep-same.tsv -o keep-same.tsv
expect 2 "ptd-sweep --save ./F -o F" ptd-sweep $SWEEP --save ./keep-same.tsv -o keep-same.tsv
grep -q 'same file' err.txt && pass "says it is the same file" || fail "message: $(cat err.txt)"
printf 'x\n' > keep-exists.tsv; ln -s keep-exists.tsv keep-alias.tsv
expect 2 "ptd-sweep --save F -o LINK-TO-F" ptd-sweep $SWEEP --save keep-exists.tsv -o keep-alias.tsv
grep -q '^x$' keep-exists.tsv && pass "and neither was written" || fail "the file was written"
expect 2 "ptd-sweep --save F.pdf -o F.tex" ptd-sweep $SWEEP --save keep-fig.pdf -o keep-fig.tex
expect 2 "ssm-train --save F -o F" ssm-train $TINY --save keep-c.tsv -o keep-c.tsv
expect 0 "ptd-sweep --save /dev/null -o /dev/null" ptd-sweep $SWEEP --save /dev/null --format tsv -o /dev/null
no_leftovers "same output"

# --- a full disk: no truncated image --------------------------------------------------------
# gnuplot exits 0 after a failed write; the image must be checked.  The disk is filled so that
# the script fits and the image does not.
mkdir "$MNT"
if [ $HAVE_GP = 1 ] && mount -t tmpfs -o size=2m tmpfs "$MNT" 2>/dev/null; then
  PSD="grcar -n 32 -eps 1e-1,1e-2,1e-3 --grid 30 --quiet"
  PAGE=$(getconf PAGESIZE)
  pg() { echo $(( ($1 + PAGE - 1) / PAGE )); } # tmpfs gives each file whole pages
  pspec $PSD -o probe.gp; script=$(stat -c %s probe.gp); rm -f probe.gp
  for ext in png pdf svg tex; do
    pspec $PSD -o "probe.$ext"; img=$(cat probe.* | wc -c); rm -f probe.*
    avail=$(( $(stat -f -c %a "$MNT") * $(stat -f -c %S "$MNT") ))
    # pages for the script, the terminal file, gnuplot's empty stderr, and half the image
    fill=$((avail - ($(pg $((script + 1))) + 1 + $(pg $img) / 2) * PAGE))
    head -c $fill /dev/zero > "$MNT/filler"
    expect 1 "full disk: .$ext" pspec $PSD -o "$MNT/out.$ext"
    grep -q 'incomplete' err.txt && pass "full disk .$ext: the image is found incomplete" || fail "full disk .$ext: $(cat err.txt)"
    left=$(ls -A "$MNT" | grep -v '^filler$' || true)
    [ -z "$left" ] && pass "full disk .$ext: nothing left" || fail "full disk .$ext left: $left"
    rm -rf "$MNT/filler" "$MNT"/* "$MNT"/.ptd* 2>/dev/null || true
  done
  umount "$MNT"
else
  echo "SKIP: gnuplot missing or mount -t tmpfs not permitted: full-disk tests"
fi
rmdir "$MNT"
no_leftovers "full disk"

# --- signals --------------------------------------------------------------------------------
signum() { case $1 in HUP) echo 1 ;; INT) echo 2 ;; QUIT) echo 3 ;; PIPE) echo 13 ;; TERM) echo 15 ;; esac; }
# wait_for GLOB: up to 30 s until a file matching GLOB exists
wait_for() {
  i=0
  while [ $i -lt 300 ]; do
    for f in $1; do [ -e "$f" ] && return 0; done
    sleep 0.1; i=$((i + 1))
  done
  return 1
}
# gone PID: the process has exited (a zombie waiting for its reaper counts), within 5 s
gone() {
  i=0
  while [ $i -lt 50 ]; do
    kill -0 "$1" 2>/dev/null || return 0
    [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" = Z ] && return 0
    sleep 0.1; i=$((i + 1))
  done
  return 1
}
# tgkill PID SIG: send SIG to one of PID's threads other than the main one (x86_64, aarch64)
case $(uname -m) in x86_64) NR_TGKILL=234 ;; aarch64) NR_TGKILL=131 ;; *) NR_TGKILL= ;; esac
tgkill() {
  tid=$(ls "/proc/$1/task" | grep -v "^$1\$" | head -1)
  [ -n "$tid" ] || return 1
  perl -e "exit(syscall($NR_TGKILL, $1, $tid, $(signum $2)) == 0 ? 0 : 1)"
}
# killed HOW SIG NAME GLOB CMD...: start CMD with SIG's default action (a background job of a
# non-interactive shell ignores SIGINT and SIGQUIT), wait until a file matching GLOB exists,
# send SIG (HOW: "process", or "thread" for a thread other than the main one), and check
# that CMD died of SIG, that no temporary remains, and that its children died with it.
killed() {
  how=$1; sig=$2; name=$3; glob=$4; shift 4
  env --default-signal="$sig" "$@" > /dev/null 2> kerr.txt &
  pid=$!
  if ! wait_for "$glob"; then
    fail "$name: no $glob appeared ($(head -c 200 kerr.txt))"; kill -KILL $pid 2>/dev/null || true; wait $pid || true; return
  fi
  kids=$(pgrep -P $pid || true)
  case $glob in .ptdplot-*) # the render directory comes first, then gnuplot
    i=0; while [ -z "$kids" ] && [ $i -lt 100 ]; do sleep 0.1; kids=$(pgrep -P $pid || true); i=$((i + 1)); done
    [ -n "$kids" ] || fail "$name: no gnuplot child appeared" ;;
  esac
  if [ "$how" = thread ]; then
    if ! tgkill $pid "$sig"; then fail "$name: no second thread to signal"; kill -KILL $pid; wait $pid || true; return; fi
  else
    kill -s "$sig" $pid
  fi
  set +e; wait $pid; st=$?; set -e
  [ "$st" -eq $((128 + $(signum "$sig"))) ] && pass "$name: killed by SIG$sig" || fail "$name: exit status $st ($(head -c 200 kerr.txt))"
  for k in $kids; do gone "$k" && pass "$name: child $k died with it" || fail "$name: child $k outlived it"; done
  no_temps "$name" .
}
if command -v pgrep >/dev/null 2>&1; then
  if [ $HAVE_GP = 1 ]; then
    # a gnuplot that takes its time: the real one, pausing before it draws
    printf '#!/bin/sh\nexec %s -e "pause 60" "$@"\n' "$(command -v gnuplot)" > keep-slowgp; chmod +x keep-slowgp
    for sig in INT TERM HUP QUIT PIPE; do
      killed process $sig "pspec rendering, SIG$sig" '.ptdplot-*' env PTD_GNUPLOT="$TMP/keep-slowgp" pspec $PS -o fig.png
    done
    [ ! -e fig.png ] && pass "no image after the signals" || fail "an image appeared"
    # SIGKILL cannot be caught: gnuplot still dies with its parent (the directory stays)
    env PTD_GNUPLOT="$TMP/keep-slowgp" pspec $PS -o fig.png 2>/dev/null &
    pid=$!
    if wait_for '.ptdplot-*'; then
      sleep 0.2; kids=$(pgrep -P $pid || true)
      kill -KILL $pid; wait $pid || true
      [ -n "$kids" ] && pass "SIGKILL: gnuplot was running" || fail "SIGKILL: no gnuplot child seen"
      for k in $kids; do gone "$k" && pass "SIGKILL: gnuplot $k died with pspec" || fail "SIGKILL: gnuplot $k orphaned"; done
    else
      fail "SIGKILL: no render directory appeared"; kill -KILL $pid; wait $pid || true
    fi
    rm -rf .ptdplot-*
  fi
  # the save window, held open by a test-only hook in libptd's writer (lib/output.c)
  export PTD_TEST_SLEEP_IN_SAVE=60
  killed process TERM "pspec -o x.tsv, SIGTERM" '.ptdtmp-*' pspec $PS -o x.tsv
  killed process INT "ptd-sweep --save, SIGINT" '.ptdtmp-*' ptd-sweep $SWEEP --save x.ptd --format tsv
  killed process TERM "ssm-train --save, SIGTERM" '.ptdtmp-*' ssm-train $TINY --save x.ckpt
  if [ -n "$NR_TGKILL" ] && command -v perl >/dev/null 2>&1; then
    killed thread TERM "ssm-train --save, SIGTERM to a worker thread" '.ptdtmp-*' ssm-train $TINY --save x.ckpt
    killed thread INT "ssm-train --save, SIGINT to a worker thread" '.ptdtmp-*' ssm-train $TINY --save x.ckpt
    killed thread HUP "pspec -o x.tsv, SIGHUP to a worker thread" '.ptdtmp-*' pspec $PS --threads 2 -o x.tsv
  else
    echo "SKIP: no perl or unknown tgkill number on $(uname -m): thread-directed signals"
  fi
  unset PTD_TEST_SLEEP_IN_SAVE
  [ ! -e x.tsv ] && [ ! -e x.ptd ] && [ ! -e x.ckpt ] && pass "no output after the signals" || fail "an output appeared"
  rm -f kerr.txt
else
  echo "SKIP: pgrep not installed: signal tests"
fi
no_leftovers "signals"

finish
