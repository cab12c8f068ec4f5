/* Store administration from C with nothing but the public headers
 * (include/aether/admin.h): what `aetherd --vector-status`, `--fsck` and
 * `--export-embeddings` do, for any program.
 *   cc -Iinclude examples/admin.c build/libaether.a $(pkg-config --libs sqlite3 jansson libcurl
 * openblas) -lm -lpthread
 *   ./a.out path/to/repo
 * Indexes the workspace (incrementally), then prints its vector tables, the
 * store check's verdict and how many embeddings an export writes. */
#include <aether/admin.h>

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s WORKSPACE\n", argv[0]);
        return 2;
    }
    ae_workspace *ws;
    ae_error err;
    if (ae_workspace_open(argv[1], NULL, &ws, &err) < 0) {
        fprintf(stderr, "open: %s (%s)\n", err.message, ae_strerror(err.code));
        return 1;
    }
    int rc = 1;
    ae_index_stats stats;
    if (ae_workspace_index(ws, NULL, &stats, &err) < 0) {
        fprintf(stderr, "index: %s\n", err.message);
        goto done;
    }
    ae_vector_status vst;
    if (ae_workspace_vector_status(ws, &vst, &err) < 0) {
        fprintf(stderr, "vector status: %s\n", err.message);
        goto done;
    }
    printf("backend %s, %zu tables\n", vst.vector_backend, vst.n_tables);
    for (size_t i = 0; i < vst.n_tables; i++)
        printf("  %s: %llu rows, dim %u, index %s\n", vst.tables[i].name,
               (unsigned long long)vst.tables[i].rows_live, vst.tables[i].dim,
               vst.tables[i].has_index ? "ivfpq" : "none");
    ae_vector_status_free(&vst);

    ae_fsck_report check;
    int frc = ae_workspace_fsck(ws, NULL, &check, &err);
    size_t problems = check.n_problems;
    if (frc < 0)
        fprintf(stderr, "fsck could not run: %s\n", err.message);
    else
        printf("fsck: %zu problems, %zu current SIRs, %zu embedded\n", check.n_problems,
               check.sirs_current, check.sirs_embedded);
    ae_fsck_report_free(&check);
    if (frc < 0) goto done;

    FILE *devnull = fopen("/dev/null", "w");
    ae_export_report exp;
    if (!devnull || ae_workspace_export_embeddings(ws, devnull, &exp, &err) < 0) {
        fprintf(stderr, "export: %s\n", devnull ? err.message : "cannot open /dev/null");
        if (devnull) fclose(devnull);
        goto done;
    }
    fclose(devnull);
    printf("export: %zu embeddings from the %s backend\n", exp.rows, exp.backend);
    rc = problems ? 1 : 0;
done:
    ae_workspace_close(ws);
    return rc;
}
