"""Regenerates tests/patches/*.patch from edits of the prepared Debian tree.

Usage: make-corpus.py TREE   (TREE: $NOREBOOT_CACHE/kernels/<ABI>/tree, from noreboot-build prepare)
Every edit must match exactly once, so a new Debian source that moved the code fails loudly.
"""
import atexit, os, shutil, subprocess, sys, tempfile
T = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
OUT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TMP = tempfile.mkdtemp(prefix="nr-corpus-")
atexit.register(shutil.rmtree, TMP, True)

def mk(name, edits):
    """edits: list of (path, old, new) applied in order; old must occur exactly once."""
    files = {}
    for path, old, new in edits:
        text = files.get(path) or open(os.path.join(T, path)).read()
        n = text.count(old)
        if n != 1:
            sys.exit(f"{name}: {path}: expected one match, found {n}: {old!r}")
        files[path] = text.replace(old, new)
    out = ""
    for path, text in files.items():
        tmp = f"{TMP}/{name}/{path}"
        os.makedirs(os.path.dirname(tmp), exist_ok=True)
        open(tmp, "w").write(text)
        r = subprocess.run(["diff", "-u", "--label", "a/" + path, "--label", "b/" + path,
                            os.path.join(T, path), tmp], capture_output=True, text=True)
        out += r.stdout
    open(os.path.join(OUT, name + ".patch"), "w").write(out)

mk("cmdline", [("fs/proc/cmdline.c", "\tseq_putc(m, '\\n');\n\treturn 0;\n}\n\nstatic int __init",
                "\tseq_puts(m, \" noreboot.cmdline=1\\n\");\n\treturn 0;\n}\n\nstatic int __init")])
mk("cmdline-v2", [("fs/proc/cmdline.c", "\tseq_putc(m, '\\n');\n\treturn 0;\n}\n\nstatic int __init",
                   "\tseq_puts(m, \" noreboot.cmdline=2\\n\");\n\treturn 0;\n}\n\nstatic int __init"),
                  ("fs/proc/devices.c", 'seq_puts(f, "Character devices:\\n");',
                   'seq_puts(f, "Character devices (noreboot v2):\\n");')])
mk("module-9p", [("fs/9p/v9fs.c", "\tif (v9ses->nodev)\n\t\tseq_puts(m, \",nodevmap\");\n",
                  "\tif (v9ses->nodev)\n\t\tseq_puts(m, \",nodevmap\");\n\tseq_puts(m, \",noreboot\");\n")])
mk("syscall-uname-refused", [("kernel/sys.c",
    "SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)\n{\n\tstruct new_utsname tmp;\n\n\tdown_read(&uts_sem);\n\tmemcpy(&tmp, utsname(), sizeof(tmp));\n\tup_read(&uts_sem);\n\tif (copy_to_user(name, &tmp, sizeof(tmp)))\n\t\treturn -EFAULT;\n\n\tif (override_release(name->release, sizeof(name->release)))",
    "SYSCALL_DEFINE1(newuname, struct new_utsname __user *, name)\n{\n\tstruct new_utsname tmp;\n\n\tdown_read(&uts_sem);\n\tmemcpy(&tmp, utsname(), sizeof(tmp));\n\tup_read(&uts_sem);\n\tstrlcat(tmp.version, \" noreboot\", sizeof(tmp.version));\n\tif (copy_to_user(name, &tmp, sizeof(tmp)))\n\t\treturn -EFAULT;\n\n\tif (override_release(name->release, sizeof(name->release)))")])
mk("static-local", [("fs/proc/loadavg.c",
    "\tunsigned long avnrun[3];\n\n\tget_avenrun(avnrun, FIXED_1/200, 0);\n\n\tseq_printf(m, \"%lu.%02lu %lu.%02lu %lu.%02lu %u/%d %d\\n\",",
    "\tstatic unsigned int noreboot_reads;\n\tunsigned long avnrun[3];\n\n\tget_avenrun(avnrun, FIXED_1/200, 0);\n\n\tseq_printf(m, \"%lu.%02lu %lu.%02lu %lu.%02lu %u/%d %d noreboot_reads=%u\\n\",")
    , ("fs/proc/loadavg.c", "\t\tidr_get_cursor(&task_active_pid_ns(current)->idr) - 1);",
       "\t\tidr_get_cursor(&task_active_pid_ns(current)->idr) - 1,\n\t\t++noreboot_reads);")])
mk("new-function", [("fs/proc/uptime.c", "static int uptime_proc_show(struct seq_file *m, void *v)\n{",
    "static noinline void noreboot_uptime_note(struct seq_file *m)\n{\n\tseq_puts(m, \" noreboot\");\n}\n\nstatic int uptime_proc_show(struct seq_file *m, void *v)\n{"),
    ("fs/proc/uptime.c", "\tseq_printf(m, \"%lu.%02lu %lu.%02lu\\n\",", "\tseq_printf(m, \"%lu.%02lu %lu.%02lu\","),
    ("fs/proc/uptime.c", "\t\t\t(idle.tv_nsec / (NSEC_PER_SEC / 100)));\n\treturn 0;",
     "\t\t\t(idle.tv_nsec / (NSEC_PER_SEC / 100)));\n\tnoreboot_uptime_note(m);\n\tseq_putc(m, '\\n');\n\treturn 0;")])
mk("new-global-data", [("arch/x86/kernel/cpu/proc.c", "static int show_cpuinfo(struct seq_file *m, void *v)\n{",
    "int noreboot_cpuinfo_marker = 4242;\n\nstatic int show_cpuinfo(struct seq_file *m, void *v)\n{"),
    ("arch/x86/kernel/cpu/proc.c", "\tseq_puts(m, \"\\n\\n\");\n\n\treturn 0;\n}\n",
     "\tseq_printf(m, \"\\nnoreboot marker\\t: %d\", noreboot_cpuinfo_marker);\n\tseq_puts(m, \"\\n\\n\");\n\n\treturn 0;\n}\n")])
mk("changed-string", [("fs/proc/devices.c", 'seq_puts(f, "Character devices:\\n");',
                       'seq_puts(f, "Character devices (noreboot):\\n");')])
mk("warn", [("fs/proc/softirqs.c", "static int show_softirqs(struct seq_file *p, void *v)\n{\n\tint i, j;\n",
    "static int show_softirqs(struct seq_file *p, void *v)\n{\n\tint i, j;\n\n\tif (WARN_ON_ONCE(nr_cpu_ids == 0))\n\t\treturn 0;\n\tseq_puts(p, \"noreboot\\n\");\n")])
mk("static-key", [("fs/proc/stat.c", "#include <linux/irqnr.h>\n", "#include <linux/irqnr.h>\n#include <linux/memcontrol.h>\n"),
    ("fs/proc/stat.c", "\tseq_put_decimal_ull(p, \"softirq \", (unsigned long long)sum_softirq);\n",
     "\tseq_printf(p, \"noreboot_memcg %d\\n\", !mem_cgroup_disabled());\n\tseq_put_decimal_ull(p, \"softirq \", (unsigned long long)sum_softirq);\n")])
mk("copy-to-user", [("fs/readdir.c",
    "\tint prev_reclen;\n\n\tbuf->error = verify_dirent_name(name, namlen);\n\tif (unlikely(buf->error))\n\t\treturn false;\n\tbuf->error = -EINVAL;\t/* only used if we fail.. */\n\tif (reclen > buf->count)\n\t\treturn false;\n\tprev_reclen = buf->prev_reclen;\n\tif (prev_reclen && signal_pending(current))\n\t\treturn false;\n\tdirent = buf->current_dir;\n\tprev = (void __user *)dirent - prev_reclen;\n\tif (!user_write_access_begin(prev, reclen + prev_reclen))\n\t\tgoto efault;\n\n\t/* This might be 'dirent->d_off', but if so it will get overwritten */\n\tunsafe_put_user(offset, &prev->d_off, efault_end);\n\tunsafe_put_user(ino, &dirent->d_ino, efault_end);",
    "\tint prev_reclen;\n\n\tif (namlen == 15 && !memcmp(name, \"noreboot-hidden\", 15))\n\t\treturn true;\n\tbuf->error = verify_dirent_name(name, namlen);\n\tif (unlikely(buf->error))\n\t\treturn false;\n\tbuf->error = -EINVAL;\t/* only used if we fail.. */\n\tif (reclen > buf->count)\n\t\treturn false;\n\tprev_reclen = buf->prev_reclen;\n\tif (prev_reclen && signal_pending(current))\n\t\treturn false;\n\tdirent = buf->current_dir;\n\tprev = (void __user *)dirent - prev_reclen;\n\tif (!user_write_access_begin(prev, reclen + prev_reclen))\n\t\tgoto efault;\n\n\t/* This might be 'dirent->d_off', but if so it will get overwritten */\n\tunsafe_put_user(offset, &prev->d_off, efault_end);\n\tunsafe_put_user(ino, &dirent->d_ino, efault_end);")])
mk("inline-meminfo", [("fs/proc/meminfo.c", 'seq_write(m, " kB\\n", 4);', 'seq_write(m, " KiB\\n", 5);')])
# Refused ones.
mk("header-refused", [("include/linux/seq_file.h", "static inline void seq_show_option(", "static inline void seq_show_option(")] if False else
   [("include/linux/seq_file.h", "#define SEQ_SKIP 1\n", "#define SEQ_SKIP 1 /* noreboot */\n")])
mk("asm-refused", [("arch/x86/lib/memmove_64.S", "SYM_FUNC_START(__memmove)\n", "SYM_FUNC_START(__memmove)\n\tnop\n")])
mk("makefile-refused", [("fs/proc/Makefile", "proc-y\t+= cmdline.o\n", "proc-y\t+= cmdline.o\n# noreboot\n")])
mk("init-refused", [("fs/proc/cmdline.c", "\tproc_create_single(\"cmdline\", 0, NULL, cmdline_proc_show);",
                     "\tproc_create_single(\"cmdline\", 0444, NULL, cmdline_proc_show);")])
mk("changed-data-refused", [("kernel/panic.c", "int panic_on_warn __read_mostly;", "int panic_on_warn __read_mostly = 0;\nint noreboot_unused_initialized = 1;")] if False else
   [("kernel/panic.c", "int panic_on_oops = CONFIG_PANIC_ON_OOPS_VALUE;", "int panic_on_oops = 1;")])
print("ok")
mk("syscall-umask", [("kernel/sys.c", "\tmask = xchg(&current->fs->umask, mask & S_IRWXUGO);\n",
                      "\tmask = xchg(&current->fs->umask, (mask | 0001) & S_IRWXUGO);\n")])
mk("inline-helper", [("fs/proc/array.c", "\tBUILD_BUG_ON(1 + ilog2(TASK_REPORT_MAX) != ARRAY_SIZE(task_state_array));\n\treturn task_state_array",
    "\tBUILD_BUG_ON(1 + ilog2(TASK_REPORT_MAX) != ARRAY_SIZE(task_state_array));\n\tif (tsk == current)\n\t\treturn \"R (running, noreboot)\";\n\treturn task_state_array")])
mk("module-tracepoint", [("net/9p/client.c", "\t\ttrace_9p_fid_ref(fid, P9_FID_REF_CREATE);\n\t\treturn fid;\n",
    "\t\ttrace_9p_fid_ref(fid, P9_FID_REF_CREATE);\n\t\tpr_info(\"noreboot-9pnet: fid %u created\\n\", fid->fid);\n\t\treturn fid;\n")])
mk("module-late", [("fs/binfmt_misc.c", 'char *s = enabled ? "enabled\\n" : "disabled\\n";',
                    'char *s = enabled ? "enabled (noreboot)\\n" : "disabled\\n";')])
