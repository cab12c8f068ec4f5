/* A scripted HTTP/1.1 model server on 127.0.0.1 (ephemeral port) for the provider tests.
 * Header-only: every unit test is its own program, so each includes this once.
 *
 * It speaks the four APIs aether calls:
 *   POST /v1/embeddings         {"data":[{"index","embedding"}]}  (returned in reverse order)
 *   POST /api/embed             {"embeddings":[[...]]}
 *   POST /api/embeddings        {"embedding":[...]}               (single text, "prompt")
 *   POST /v1/chat/completions   {"choices":[{"message":{"content"}}]}
 *   POST /api/chat              {"message":{"content"},"done":true}
 * Default vectors are stub_value(text, j); default chat content is stub->chat_content.
 * With chat_echo_name set, an unscripted chat reply is a SIR whose intent names the prompt's
 * "Qualified name:"; a chat prompt containing fail_name gets HTTP 500; chat_delay_ms delays every
 * unscripted chat reply.
 * Tests queue scripted replies (status, delay, Retry-After, raw body, chat content, dim) that
 * are consumed one per request, in arrival order; the log keeps every request's path,
 * Authorization header and body.  One thread per connection, so a slow reply does not
 * hold up the next attempt; "Connection: close" on every reply. */
#ifndef AE_TESTS_HTTP_STUB_H
#define AE_TESTS_HTTP_STUB_H

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STUB_MAX_SCRIPT 64
#define STUB_MAX_LOG    512
#define STUB_MAX_CONN   512

typedef struct stub_reply {
    int status;          /* 0: 200 */
    int delay_ms;        /* sleep before replying */
    int retry_after;     /* > 0: Retry-After header (seconds) */
    const char *body;    /* non-NULL: the whole body, verbatim */
    const char *content; /* chat replies: the message content instead of stub->chat_content */
    int dim;             /* embedding replies: this many dimensions instead of stub->dim */
} stub_reply;

typedef struct stub_request {
    char path[256];
    char auth[256]; /* Authorization header value, "" when absent */
    char *body;
} stub_request;

typedef struct stub {
    int fd, port;
    char base[64]; /* "http://127.0.0.1:PORT" */
    int dim;
    const char *chat_content;
    int chat_echo_name;    /* unscripted chat replies name the prompt's symbol */
    const char *fail_name; /* chat prompts containing it get HTTP 500 */
    int chat_delay_ms;     /* delay of unscripted chat replies */
    pthread_t acceptor;
    pthread_t conns[STUB_MAX_CONN];
    int n_conns;
    volatile int stop;
    pthread_mutex_t mu;
    stub_reply script[STUB_MAX_SCRIPT];
    int script_len, script_pos;
    stub_request log[STUB_MAX_LOG];
    int n_log;
} stub;

static double stub_value(const char *text, size_t j)
{
    size_t n = strlen(text);
    return (double)((n * 31 + j * 7) % 1000) / 1000.0 - 0.5;
}

static void stub_push(stub *s, stub_reply r)
{
    pthread_mutex_lock(&s->mu);
    if (s->script_len < STUB_MAX_SCRIPT) s->script[s->script_len++] = r;
    pthread_mutex_unlock(&s->mu);
}

static int stub_count(stub *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->n_log;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Forgets the log and any unconsumed script entries. */
static void stub_reset(stub *s)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n_log; i++)
        free(s->log[i].body);
    s->n_log = 0;
    s->script_len = s->script_pos = 0;
    pthread_mutex_unlock(&s->mu);
}

static json_t *stub_vector(const char *text, int dim)
{
    json_t *a = json_array();
    for (int j = 0; j < dim; j++)
        json_array_append_new(a, json_real(stub_value(text, (size_t)j)));
    return a;
}

static char *stub_default_body(stub *s, const char *path, json_t *req, const stub_reply *r)
{
    int dim = r && r->dim ? r->dim : s->dim;
    const char *content = r && r->content ? r->content : s->chat_content;
    json_t *out = json_object();
    if (!strcmp(path, "/v1/embeddings") || !strcmp(path, "/api/embed")) {
        json_t *input = json_object_get(req, "input");
        json_t *list = json_array();
        size_t n = json_array_size(input);
        for (size_t k = 0; k < n; k++) {
            size_t i = !strcmp(path, "/v1/embeddings") ? n - 1 - k : k; /* openai: reversed */
            const char *t = json_string_value(json_array_get(input, i));
            json_t *v = stub_vector(t ? t : "", dim);
            if (!strcmp(path, "/v1/embeddings"))
                json_array_append_new(list, json_pack("{s:i, s:o, s:s}", "index", (int)i,
                                                      "embedding", v, "object", "embedding"));
            else
                json_array_append_new(list, v);
        }
        json_object_set_new(out, !strcmp(path, "/api/embed") ? "embeddings" : "data", list);
    } else if (!strcmp(path, "/api/embeddings")) {
        const char *t = json_string_value(json_object_get(req, "prompt"));
        json_object_set_new(out, "embedding", stub_vector(t ? t : "", dim));
    } else if ((!strcmp(path, "/v1/chat/completions") || !strcmp(path, "/api/chat")) &&
               s->chat_echo_name && !(r && r->content)) {
        const char *user = json_string_value(
            json_object_get(json_array_get(json_object_get(req, "messages"), 1), "content"));
        const char *q = user ? strstr(user, "Qualified name: ") : NULL;
        char name[256] = "unknown";
        if (q) sscanf(q + 16, "%255[^\n]", name);
        char intent[400];
        snprintf(intent, sizeof intent, "Summary of %s", name);
        json_t *sir =
            json_pack("{s:s, s:[], s:[], s:[], s:[], s:[], s:f}", "intent", intent, "inputs",
                      "outputs", "side_effects", "dependencies", "error_modes", "confidence", 0.5);
        char *c = json_dumps(sir, JSON_COMPACT);
        json_decref(sir);
        if (!strcmp(path, "/api/chat")) {
            json_object_set_new(out, "message",
                                json_pack("{s:s, s:s}", "role", "assistant", "content", c));
        } else {
            json_object_set_new(out, "choices",
                                json_pack("[{s:i, s:{s:s, s:s}, s:s}]", "index", 0, "message",
                                          "role", "assistant", "content", c, "finish_reason",
                                          "stop"));
        }
        free(c);
    } else if (!strcmp(path, "/v1/chat/completions")) {
        json_object_set_new(out, "choices",
                            json_pack("[{s:i, s:{s:s, s:s}, s:s}]", "index", 0, "message", "role",
                                      "assistant", "content", content, "finish_reason", "stop"));
    } else if (!strcmp(path, "/api/chat")) {
        json_object_set_new(out, "message",
                            json_pack("{s:s, s:s}", "role", "assistant", "content", content));
        json_object_set_new(out, "done", json_true());
    } else {
        json_decref(out);
        return strdup("{\"error\":\"not found\"}");
    }
    char *txt = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return txt;
}

static void stub_send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

typedef struct stub_conn {
    stub *s;
    int fd;
} stub_conn;

static void *stub_serve(void *arg)
{
    stub_conn *c = arg;
    stub *s = c->s;
    int fd = c->fd;
    free(c);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    char *hdr_end = NULL;
    long content_length = 0;
    while (buf) {
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r <= 0) break;
        len += (size_t)r;
        buf[len] = 0;
        if (!hdr_end) {
            hdr_end = strstr(buf, "\r\n\r\n");
            if (hdr_end) {
                char *cl = strcasestr(buf, "\r\nContent-Length:");
                if (cl && cl < hdr_end) content_length = strtol(cl + 17, NULL, 10);
            }
        }
        if (hdr_end && len >= (size_t)(hdr_end + 4 - buf) + (size_t)content_length) break;
    }
    if (!buf || !hdr_end) {
        free(buf);
        close(fd);
        return NULL;
    }
    stub_request q = {0};
    sscanf(buf, "%*s %255s", q.path);
    char *auth = strcasestr(buf, "\r\nAuthorization:");
    if (auth && auth < hdr_end) {
        auth += 16;
        while (*auth == ' ')
            auth++;
        size_t k = strcspn(auth, "\r");
        if (k > sizeof q.auth - 1) k = sizeof q.auth - 1;
        memcpy(q.auth, auth, k);
    }
    q.body = strndup(hdr_end + 4, (size_t)content_length);
    json_t *req = q.body ? json_loads(q.body, 0, NULL) : NULL;
    int is_chat = !strcmp(q.path, "/v1/chat/completions") || !strcmp(q.path, "/api/chat");
    int fail_this = is_chat && s->fail_name && q.body && strstr(q.body, s->fail_name);
    stub_reply r = {0};
    int scripted = 0;
    pthread_mutex_lock(&s->mu);
    if (s->n_log < STUB_MAX_LOG)
        s->log[s->n_log++] = q;
    else
        free(q.body);
    if (s->script_pos < s->script_len) {
        r = s->script[s->script_pos++];
        scripted = 1;
    }
    pthread_mutex_unlock(&s->mu);
    free(buf);
    if (!scripted && is_chat) {
        if (s->chat_delay_ms > 0) r.delay_ms = s->chat_delay_ms;
        if (fail_this) {
            r.status = 500;
            r.body = "{\"error\":\"stub: failing this symbol\"}";
        }
    }
    char *body = r.body ? strdup(r.body) : stub_default_body(s, q.path, req, scripted ? &r : NULL);
    json_decref(req);
    int status = r.status ? r.status : (strstr(body, "not found") ? 404 : 200);
    if (r.delay_ms > 0) {
        struct timespec ts = {r.delay_ms / 1000, (long)(r.delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    char head[512];
    char extra[64] = "";
    if (r.retry_after > 0) snprintf(extra, sizeof extra, "Retry-After: %d\r\n", r.retry_after);
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: "
                      "%zu\r\nConnection: close\r\n%s\r\n",
                      status, strlen(body), extra);
    stub_send_all(fd, head, (size_t)hl);
    stub_send_all(fd, body, strlen(body));
    free(body);
    shutdown(fd, SHUT_WR);
    close(fd);
    return NULL;
}

static void *stub_accept_loop(void *arg)
{
    stub *s = arg;
    while (!s->stop) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0) continue;
        stub_conn *c = malloc(sizeof *c);
        if (!c || s->n_conns >= STUB_MAX_CONN) {
            free(c);
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        if (pthread_create(&s->conns[s->n_conns], NULL, stub_serve, c) == 0)
            s->n_conns++;
        else {
            free(c);
            close(fd);
        }
    }
    return NULL;
}

static const char STUB_DEFAULT_SIR[] =
    "{\"intent\":\"Adds two numbers\",\"inputs\":[\"a\",\"b\"],\"outputs\":[\"sum\"],"
    "\"side_effects\":[],\"dependencies\":[],\"error_modes\":[],\"confidence\":0.9}";

static int stub_start(stub *s, int dim)
{
    memset(s, 0, sizeof *s);
    s->dim = dim;
    s->chat_content = STUB_DEFAULT_SIR;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(s->fd, 64) < 0 ||
        getsockname(s->fd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    s->port = ntohs(a.sin_port);
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    return pthread_create(&s->acceptor, NULL, stub_accept_loop, s) == 0 ? 0 : -1;
}

static void stub_stop(stub *s)
{
    s->stop = 1;
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->n_conns; i++)
        pthread_join(s->conns[i], NULL);
    close(s->fd);
    stub_reset(s);
    pthread_mutex_destroy(&s->mu);
}

#endif
