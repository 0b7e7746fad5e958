# SPDX-License-Identifier: LGPL-2.1-or-later
# pty_run.py ANSWERS CMD...: run CMD on a new pseudo-terminal (its controlling terminal,
# so /dev/tty is the pty), type each answer (ANSWERS separated by '|') when the program
# shows a prompt ending in ':', print everything the terminal showed, and exit with CMD's
# status (124 after 30 s without an end).
import os, pty, select, signal, sys, time

answers = sys.argv[1].split("|")
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
out = b""
deadline = time.time() + 30
timed_out = False
while True:
    left = deadline - time.time()
    if left <= 0:
        timed_out = True
        os.kill(pid, signal.SIGKILL)
        break
    r, _, _ = select.select([fd], [], [], left)
    if not r:
        continue
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
    if answers and out.rstrip().endswith(b":"):
        os.write(fd, answers.pop(0).encode() + b"\n")
        out += b"<typed>"
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode("utf-8", "replace"))
sys.exit(124 if timed_out else os.waitstatus_to_exitcode(status))
