/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The harness of the module tests (harness.h). */
#include "harness.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int n_test, n_fail;

static char dir[64];
static char state_path[128];
static char cache_path[128];

void ok(int cond, const char *fmt, ...)
{
	va_list ap;

	n_test++;
	if (!cond)
		n_fail++;
	printf("%s %d - ", cond ? "ok" : "not ok", n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int rv_is(const char *what, CK_RV got, CK_RV want)
{
	ok(got == want, "%s = 0x%lx (want 0x%lx)", what, (unsigned long)got, (unsigned long)want);
	return got == want;
}

int rv_is2(const char *what, CK_RV got, CK_RV w1, CK_RV w2)
{
	ok(got == w1 || got == w2, "%s = 0x%lx (want 0x%lx or 0x%lx)", what, (unsigned long)got,
	   (unsigned long)w1, (unsigned long)w2);
	return got == w1 || got == w2;
}

const char *h_make_dir(const char *tag)
{
	if (!getenv("VNPKI_VTOKEN_BIN") || !getenv("VNPKI_VTOKEN_PLUGIN"))
		return NULL;
	snprintf(dir, sizeof(dir), "/tmp/vnpki-%s-XXXXXX", tag);
	if (!mkdtemp(dir)) {
		dir[0] = 0;
		return NULL;
	}
	snprintf(state_path, sizeof(state_path), "%s/state", dir);
	snprintf(cache_path, sizeof(cache_path), "%s/cache", dir);
	setenv("VNPKI_CACHE_DIR", cache_path, 1); /* the module's cache: the test's own */
	return dir;
}

const char *h_state_path(void)
{
	return state_path;
}

int h_init_token(const char *opts)
{
	const char *bin = getenv("VNPKI_VTOKEN_BIN"), *plugin = getenv("VNPKI_VTOKEN_PLUGIN");
	char cmd[4096], conf[512];
	FILE *fp;

	if (!bin || !plugin || !dir[0])
		return -1;
	snprintf(cmd, sizeof(cmd), "'%s' init --state '%s' %s >/dev/null", bin, state_path, opts);
	printf("# %s\n", cmd);
	if (system(cmd) != 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/vnpki.conf", dir);
	fp = fopen(conf, "w");
	if (!fp)
		return -1;
	fprintf(fp, "readers = vtoken\nvtoken.state = %s\nvtoken.plugin = %s\n", state_path,
		plugin);
	fclose(fp);
	setenv("VNPKI_CONF", conf, 1);
	return 0;
}

void *h_load_module(void)
{
	const char *path = getenv("VNPKI_MODULE");
	void *mod = path ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;

	if (!mod)
		printf("Bail out! dlopen: %s\n", path ? dlerror() : "VNPKI_MODULE unset");
	return mod;
}

CK_FUNCTION_LIST_3_0_PTR h_pkcs11_3_0(void *mod, CK_C_GetInterface *ret_get_if)
{
	CK_C_GetInterface get_if = (CK_C_GetInterface)dlsym(mod, "C_GetInterface");
	CK_INTERFACE_PTR i = NULL;

	if (!get_if || get_if((CK_UTF8CHAR_PTR) "PKCS 11", NULL, &i, 0) != CKR_OK) {
		printf("Bail out! no PKCS 11 interface\n");
		return NULL;
	}
	if (ret_get_if)
		*ret_get_if = get_if;
	return i->pFunctionList;
}

const struct vnp_ext_functions *h_vendor(CK_C_GetInterface get_if)
{
	CK_INTERFACE_PTR i = NULL;
	CK_VERSION vv = { VNPKI_INTERFACE_VERSION_MAJOR, VNPKI_INTERFACE_VERSION_MINOR };

	RV(get_if((CK_UTF8CHAR_PTR)VNPKI_INTERFACE_NAME, &vv, &i, 0), CKR_OK);
	return i ? i->pFunctionList : NULL;
}

int h_setup(int (*setup)(void))
{
	if (!getenv("VNPKI_MODULE") || setup() != 0) {
		printf("Bail out! VNPKI_MODULE / VNPKI_VTOKEN_BIN / VNPKI_VTOKEN_PLUGIN\n");
		return -1;
	}
	return 0;
}

CK_FUNCTION_LIST_3_0_PTR h_start(int (*setup)(void), void **mod, CK_C_GetInterface *get_if)
{
	*mod = NULL;
	if (h_setup(setup) != 0)
		return NULL;
	*mod = h_load_module();
	return *mod ? h_pkcs11_3_0(*mod, get_if) : NULL;
}

int h_finish(void *mod)
{
	char cmd[128];

	printf("1..%d\n", n_test);
	dlclose(mod);
	if (!n_fail && dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return n_fail ? 1 : 0;
}
