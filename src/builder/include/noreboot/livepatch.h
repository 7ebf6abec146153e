/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <noreboot/livepatch.h>: what a fix built by noreboot-build may declare besides code.
 *
 * noreboot-build puts this header on the include path of the patched copy of every unit, so a
 * fix includes it as it is; nothing to copy. See docs/patch-author-guide.md ("Callbacks and
 * shadow variables") for the pattern and a tested example.
 *
 * Callbacks (the kernel's struct klp_callbacks, Documentation/livepatch/callbacks.rst):
 *
 *   static void fix_repair_state(struct klp_object *obj) { ... }
 *   NOREBOOT_POST_PATCH_CALLBACK(vmlinux, fix_repair_state);
 *
 * OBJECT is `vmlinux`, a module's name as the kernel spells it (binfmt_misc, nfsd), or
 * `this_object` (the object this file is built into): a bare identifier, not a string. Per
 * object, at most one callback of each kind in the whole patch:
 *   pre_patch    int  fn(struct klp_object *): before the object is patched; non-zero refuses
 *                     the patch (for a module loading later: that module's load fails)
 *   post_patch   void fn(struct klp_object *): after the object is patched (the transition
 *                     may still be going on)
 *   pre_unpatch  void fn(struct klp_object *): before the object is unpatched
 *   post_unpatch void fn(struct klp_object *): after it is unpatched (the old code runs again)
 * For a module they run when the module is patched: at the patch's load if the module is
 * loaded then, else when it loads later (and unpatch ones when it unloads). Declare a callback
 * in a file of its own object, or in a vmlinux file (its code must be relocated when it runs).
 * Every noreboot patch replaces the earlier ones (replace = true), and then only the newest
 * patch's callbacks run, not the replaced one's unpatch callbacks: write them so that running
 * them again is harmless.
 *
 * How noreboot finds them: each macro defines a file-static function
 * __noreboot_cb_<kind>__<object> (kept with the `used` attribute) that calls FN; the builder
 * carries it like any new function and wires it into the klp_object. The __noreboot_cb_
 * prefix is reserved for these macros.
 *
 * Shadow variables (new fields for existing objects, Documentation/livepatch/shadow-vars.rst)
 * are the kernel's own klp_shadow_*() functions, exported by vmlinux: this header only brings
 * in <linux/livepatch.h>, which declares them.
 */
#ifndef NOREBOOT_LIVEPATCH_H
#define NOREBOOT_LIVEPATCH_H

#include <linux/livepatch.h>

#define __NOREBOOT_CALLBACK(kind, object, type, fn)                                         \
	static type __attribute__((__used__)) __noreboot_cb_##kind##__##object(struct klp_object *obj) \
	{                                                                                   \
		__NOREBOOT_CALL_##type(fn, obj);                                            \
	}
#define __NOREBOOT_CALL_int(fn, obj) return fn(obj)
#define __NOREBOOT_CALL_void(fn, obj) fn(obj)

#define NOREBOOT_PRE_PATCH_CALLBACK(object, fn) __NOREBOOT_CALLBACK(pre_patch, object, int, fn)
#define NOREBOOT_POST_PATCH_CALLBACK(object, fn) __NOREBOOT_CALLBACK(post_patch, object, void, fn)
#define NOREBOOT_PRE_UNPATCH_CALLBACK(object, fn) __NOREBOOT_CALLBACK(pre_unpatch, object, void, fn)
#define NOREBOOT_POST_UNPATCH_CALLBACK(object, fn) __NOREBOOT_CALLBACK(post_unpatch, object, void, fn)

#endif /* NOREBOOT_LIVEPATCH_H */
