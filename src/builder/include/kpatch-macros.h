/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kpatch-macros.h for noreboot: lets fixes written for kpatch build unchanged where the
 * kernel's livepatch API can do what the macro asks, and fail with a message naming the macro
 * where it cannot. Written from the kernel's documented livepatch API
 * (Documentation/livepatch/callbacks.rst, shadow-vars.rst) and the macros' documented
 * behaviour, on top of <noreboot/livepatch.h>; it shares no code with kpatch.
 *
 * noreboot-build puts it on the include path of every patched copy, so both
 * #include "kpatch-macros.h" and #include <kpatch-macros.h> find it.
 *
 *  KPATCH_PRE_PATCH_CALLBACK(fn)     int  fn(patch_object *obj)  \  callbacks of the object
 *  KPATCH_POST_PATCH_CALLBACK(fn)    void fn(patch_object *obj)   | this file is built into
 *  KPATCH_PRE_UNPATCH_CALLBACK(fn)   void fn(patch_object *obj)   | (vmlinux or its module),
 *  KPATCH_POST_UNPATCH_CALLBACK(fn)  void fn(patch_object *obj)  /  as klp_callbacks
 *  kpatch_shadow_alloc/get/free(obj, "name", ...): shadow variables named by a string, mapped
 *                     onto klp_shadow_* with an id hashed from the name (same name, same id,
 *                     in every file of the patch); new code should call klp_shadow_* itself
 *  KPATCH_IGNORE_FUNCTION(fn), KPATCH_IGNORE_SECTION("name"), KPATCH_IGNORE_STATIC("name"):
 *                     markers the differ honours (below)
 *  KPATCH_FORCE_UNSAFE(fn): not available; using it stops the build with a compiler error
 *                     that names the macro and says why (the builder reports it as "the fix
 *                     does not compile").
 */
#ifndef NOREBOOT_KPATCH_MACROS_H
#define NOREBOOT_KPATCH_MACROS_H

#include <linux/types.h>
#include <linux/gfp.h>
#include <noreboot/livepatch.h>

typedef struct klp_object patch_object;

#define KPATCH_PRE_PATCH_CALLBACK(fn) NOREBOOT_PRE_PATCH_CALLBACK(this_object, fn)
#define KPATCH_POST_PATCH_CALLBACK(fn) NOREBOOT_POST_PATCH_CALLBACK(this_object, fn)
#define KPATCH_PRE_UNPATCH_CALLBACK(fn) NOREBOOT_PRE_UNPATCH_CALLBACK(this_object, fn)
#define KPATCH_POST_UNPATCH_CALLBACK(fn) NOREBOOT_POST_UNPATCH_CALLBACK(this_object, fn)

/*
 * The livepatch consistency model switches every task to the new code only when none of the
 * patched functions is on its stack; the kernel's livepatch has no way to exempt one function
 * from that check.
 */
#define KPATCH_FORCE_UNSAFE(fn)                                                              \
	_Static_assert(0, "KPATCH_FORCE_UNSAFE(" #fn ") has no equivalent in the kernel "   \
			  "livepatch, which noreboot uses: remove it (every function goes "    \
			  "through the consistency model) or change the fix")
/*
 * Ignore markers: changes the differ must not patch (src/diff/ignore_markers.h). Each marker
 * is a pointer in a marker section that the differ reads and never copies into the patch.
 *  KPATCH_IGNORE_FUNCTION(fn)      fn changed only as a side effect (say, a WARN's line
 *                                  number): treated as unchanged, not patched.
 *  KPATCH_IGNORE_SECTION("name")   the units of section "name" are treated as unchanged
 *                                  (side effects, or a section that does not follow
 *                                  -ffunction-sections/-fdata-sections).
 *  KPATCH_IGNORE_STATIC("name")    the static variable "name" (any compiler suffix name.N) is
 *                                  treated as unchanged (noreboot's own; kpatch has no such
 *                                  macro).
 * A marker that names nothing in the patched object is refused by the differ, naming it.
 */
#define __NOREBOOT_PASTE2(a, b) a##b
#define __NOREBOOT_PASTE(a, b) __NOREBOOT_PASTE2(a, b)
#define __NOREBOOT_IGNORE_MARKER(kind, value)                                               \
	static const void *__NOREBOOT_PASTE(__noreboot_ignore_##kind##_, __COUNTER__)        \
		__attribute__((__used__, __section__(".noreboot.ignore." #kind "s"))) = (value)
#define KPATCH_IGNORE_FUNCTION(fn) __NOREBOOT_IGNORE_MARKER(function, (const void *)(fn))
#define KPATCH_IGNORE_SECTION(name) __NOREBOOT_IGNORE_MARKER(section, (name))
#define KPATCH_IGNORE_STATIC(name) __NOREBOOT_IGNORE_MARKER(static, (name))

/* FNV-1a of the variable's name: the klp_shadow id of a named shadow variable. */
static inline unsigned long __noreboot_shadow_id(const char *name)
{
	unsigned long h = 0xcbf29ce484222325UL;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 0x100000001b3UL;
	return h;
}

static inline void *kpatch_shadow_alloc(void *obj, char *var, size_t size, gfp_t gfp)
{
	return klp_shadow_alloc(obj, __noreboot_shadow_id(var), size, gfp, NULL, NULL);
}

static inline void *kpatch_shadow_get(void *obj, char *var)
{
	return klp_shadow_get(obj, __noreboot_shadow_id(var));
}

static inline void kpatch_shadow_free(void *obj, char *var)
{
	klp_shadow_free(obj, __noreboot_shadow_id(var), NULL);
}

#endif /* NOREBOOT_KPATCH_MACROS_H */
