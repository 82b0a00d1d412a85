/*
 * The service's persistent state in LMDB: policies (current and every
 * version), policy signer certificates, token-signing keys and metadata.
 * Every change is one LMDB write transaction, so a crash (kill -9 included)
 * leaves the old or the new state, never a torn one. The environment file is
 * created 0600: it holds private keys.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <vouch/log.h>
#include <vouch/mem.h>

#include "attestd/attestd_int.h"

static const char *const db_names[ATTESTD_DB__COUNT] = {
    [ATTESTD_DB_POLICIES] = "policies",
    [ATTESTD_DB_SIGNERS] = "signers",
    [ATTESTD_DB_KEYS] = "keys",
    [ATTESTD_DB_META] = "meta",
};

struct attestd_store {
    MDB_env *env;
    MDB_dbi dbi[ATTESTD_DB__COUNT];
};

static vouch_err map_err(int e, const char *what)
{
    if (e == MDB_NOTFOUND)
        return VOUCH_ERR_NOT_FOUND;
    vouch_log_error("lmdb %s: %s", what, mdb_strerror(e));
    return e == ENOMEM ? VOUCH_ERR_NOMEM : VOUCH_ERR_STORE;
}

vouch_err attestd_store_open(const char *dir, struct attestd_store **out)
{
    struct attestd_store *s = NULL;
    MDB_txn *txn = NULL;
    char path[4096];
    vouch_err rc = VOUCH_ERR_NOMEM;
    int e;

    *out = NULL;
    if ((size_t)snprintf(path, sizeof(path), "%s/state.mdb", dir) >= sizeof(path))
        return VOUCH_ERR_INVAL;
    if (!(s = vouch_calloc(1, sizeof(*s))))
        return VOUCH_ERR_NOMEM;
    if ((e = mdb_env_create(&s->env)) != 0 ||
        (e = mdb_env_set_maxdbs(s->env, ATTESTD_DB__COUNT)) != 0 ||
        (e = mdb_env_set_mapsize(s->env, ATTESTD_STORE_MAP_SIZE)) != 0 ||
        (e = mdb_env_set_maxreaders(s->env, 256)) != 0) {
        rc = map_err(e, "env setup");
        goto out;
    }
    /* NOSUBDIR: one data file plus its -lock file, both 0600. */
    if ((e = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600)) != 0) {
        rc = map_err(e, path);
        goto out;
    }
    if ((e = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
        rc = map_err(e, "begin");
        goto out;
    }
    for (int i = 0; i < ATTESTD_DB__COUNT; i++) {
        if ((e = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &s->dbi[i])) != 0) {
            rc = map_err(e, db_names[i]);
            goto out;
        }
    }
    e = mdb_txn_commit(txn);
    txn = NULL;
    if (e != 0) {
        rc = map_err(e, "commit");
        goto out;
    }
    *out = s;
    s = NULL;
    rc = VOUCH_OK;
out:
    if (txn)
        mdb_txn_abort(txn);
    attestd_store_close(s);
    return rc;
}

void attestd_store_close(struct attestd_store *s)
{
    if (!s)
        return;
    if (s->env)
        mdb_env_close(s->env);
    vouch_free(s);
}

vouch_err attestd_store_get(struct attestd_store *s, enum attestd_db db, const char *key,
                            uint8_t **val, size_t *len)
{
    MDB_txn *txn = NULL;
    MDB_val k = {strlen(key), (void *)key}, v;
    vouch_err rc;
    int e;

    *val = NULL;
    *len = 0;
    if ((e = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
        return map_err(e, "begin read");
    if ((e = mdb_get(txn, s->dbi[db], &k, &v)) != 0) {
        rc = map_err(e, "get");
        goto out;
    }
    rc = VOUCH_ERR_NOMEM;
    /* Copy out (NUL-terminated) so nothing points into the map after the txn. */
    if (!(*val = vouch_malloc(v.mv_size + 1)))
        goto out;
    memcpy(*val, v.mv_data, v.mv_size);
    (*val)[v.mv_size] = 0;
    *len = v.mv_size;
    rc = VOUCH_OK;
out:
    mdb_txn_abort(txn);
    return rc;
}

vouch_err attestd_store_apply(struct attestd_store *s, const struct attestd_store_op *ops, size_t n)
{
    MDB_txn *txn = NULL;
    vouch_err rc = VOUCH_ERR_STORE;
    int e;

    if ((e = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
        return map_err(e, "begin write");
    for (size_t i = 0; i < n; i++) {
        MDB_val k = {strlen(ops[i].key), (void *)ops[i].key};
        if (ops[i].del) {
            e = mdb_del(txn, s->dbi[ops[i].db], &k, NULL);
            if (e == MDB_NOTFOUND)
                e = 0;
        } else {
            MDB_val v = {ops[i].len, (void *)ops[i].val};
            e = mdb_put(txn, s->dbi[ops[i].db], &k, &v, 0);
        }
        if (e != 0) {
            rc = map_err(e, "write");
            goto out;
        }
    }
    e = mdb_txn_commit(txn);
    txn = NULL;
    rc = e == 0 ? VOUCH_OK : map_err(e, "commit");
out:
    if (txn)
        mdb_txn_abort(txn);
    return rc;
}

vouch_err attestd_store_put(struct attestd_store *s, enum attestd_db db, const char *key,
                            const void *val, size_t len)
{
    struct attestd_store_op op = {.db = db, .key = key, .val = val, .len = len};
    return attestd_store_apply(s, &op, 1);
}

vouch_err attestd_store_each(struct attestd_store *s, enum attestd_db db, const char *prefix,
                             attestd_store_each_fn fn, void *arg)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    size_t plen = strlen(prefix);
    vouch_err rc = VOUCH_ERR_STORE;
    int e;

    if ((e = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
        return map_err(e, "begin read");
    if ((e = mdb_cursor_open(txn, s->dbi[db], &cur)) != 0) {
        rc = map_err(e, "cursor");
        goto out;
    }
    k.mv_size = plen;
    k.mv_data = (void *)prefix;
    e = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (e == 0) {
        char key[ATTESTD_MAX_KEY_LEN + 1];
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (k.mv_size <= ATTESTD_MAX_KEY_LEN) {
            memcpy(key, k.mv_data, k.mv_size);
            key[k.mv_size] = 0;
            if ((rc = fn(arg, key, v.mv_data, v.mv_size)) != VOUCH_OK)
                goto out;
        }
        e = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (e != 0 && e != MDB_NOTFOUND) {
        rc = map_err(e, "iterate");
        goto out;
    }
    rc = VOUCH_OK;
out:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc;
}
