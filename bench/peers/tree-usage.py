# Runs a command and reports the CPU time of its whole process tree, as one JSON line on stderr:
# {"code", "wallS", "userS", "sysS"}. It makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER)
# so processes that outlive their parent (a service left running, a slave its agent did not wait
# for) are re-parented here, waited for, and counted; getrusage(RUSAGE_CHILDREN) then covers every
# process of the tree. wallS is until the command itself exits; the rest may still be running then.
import ctypes, json, os, resource, sys, time

PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
started = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
code = None
wall = None
while True:
    try:
        done, status = os.wait()
    except ChildProcessError:
        break
    if done == pid:
        code = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write(json.dumps({"code": code, "wallS": wall, "userS": usage.ru_utime, "sysS": usage.ru_stime}) + "\n")
