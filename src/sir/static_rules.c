/* The static provider's rules: which calls, keywords and operators mean a side effect or an
 * error mode, per language family.  Adding a rule is adding a row (with its sample: the test
 * in tests/unit/test_sir_rules.c runs every row's sample and requires that exactly that row
 * fires).
 *
 * 1. Rows are tried in table order at every chain of the body (static_body.c); every row
 *    that matches adds its text, duplicates collapse, the lists are sorted at the end.
 * 2. A row names where it applies (family, site: call, macro, any mention, keyword,
 *    operator), how its pattern matches the chain (whole chain, prefix, segment suffix, last
 *    segment, first segment, any segment), optional conditions (a scope for the first
 *    segment, a bare or method call) and an optional test of the arguments or of what
 *    follows a keyword, with the text added when the test holds and when it does not.
 * 3. Matching is by name only: `fs.write` is "writes files" whatever `fs` is bound to.  It is
 *    meant to be honest rather than complete: no rule, no claim. */
#include "sir/static_internal.h"

#include "util/err.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define ROW(fam, site_, match_, pat)                                                               \
    .family = LANG_FAM_##fam, .site = SITE_##site_, .match = MATCH_##match_, .pattern = pat
#define FX(text)  .list = STATIC_SIDE_EFFECT, .effect = text
#define ERR(text) .list = STATIC_ERROR_MODE, .effect = text

/* clang-format off */
static const static_rule rules[] = {
    /* ---- keywords (one-segment chains read as statements) ---- */
    {ROW(C, KEYWORD, CHAIN, "return"), .test = TEST_FOLLOWED_BY, .word = "-1", ERR("returns -1 on error"), .sample = "return -1;"},
    {ROW(C, KEYWORD, CHAIN, "return"), .test = TEST_FOLLOWED_BY, .word = "NULL", ERR("returns NULL on error"), .sample = "return (NULL);"},
    {ROW(C, KEYWORD, CHAIN, "return"), .test = TEST_FOLLOWED_BY, .word = "nullptr", ERR("returns nullptr on error"), .sample = "return nullptr;"},
    {ROW(C, KEYWORD, CHAIN, "errno"), .test = TEST_ASSIGNED, ERR("sets errno"), .sample = "errno = EINVAL;"},
    {ROW(C, KEYWORD, CHAIN, "throw"), .test = TEST_THROWN_TYPE, ERR("throws %s"), .otherwise = "throws", .sample = "throw std::runtime_error(m);"},
    {ROW(GO, KEYWORD, CHAIN, "return"), .test = TEST_GO_RETURNS_ERROR, ERR("returns error"), .sample = "return nil, err"},
    {ROW(PY, KEYWORD, CHAIN, "raise"), .test = TEST_RAISED_NAME, ERR("raises %s"), .otherwise = "re-raises exceptions", .sample = "raise errors.Bad"},
    {ROW(PY, KEYWORD, CHAIN, "global"), .test = TEST_NAME_FOLLOWS, FX("mutates global state"), .sample = "global counter"},
    {ROW(PY, KEYWORD, CHAIN, "nonlocal"), .test = TEST_NAME_FOLLOWS, FX("mutates global state"), .sample = "nonlocal total"},
    {ROW(PY, KEYWORD, CHAIN, "assert"), .test = TEST_SPACE_FOLLOWS, ERR("raises AssertionError"), .sample = "assert ok"},
    {ROW(JS, KEYWORD, CHAIN, "throw"), .test = TEST_THROWN_TYPE, ERR("throws %s"), .otherwise = "throws", .sample = "throw new TypeError(m);"},
    {ROW(JAVA, KEYWORD, CHAIN, "throw"), .test = TEST_THROWN_TYPE, ERR("throws %s"), .otherwise = "throws", .sample = "throw e;"},

    /* ---- network, in every family ("httpx", "https" are the "http" prefix row) ---- */
    {ROW(OTHER, NAME, FIRST, "reqwest"), FX("network"), .sample = "reqwest::get(u)"},
    {ROW(OTHER, NAME, FIRST, "hyper"), FX("network"), .sample = "hyper::Client::new()"},
    {ROW(OTHER, NAME, FIRST, "urllib"), FX("network"), .sample = "urllib.parse.quote(u)"},
    {ROW(OTHER, NAME, FIRST, "urllib2"), FX("network"), .sample = "urllib2.build_opener()"},
    {ROW(OTHER, NAME, FIRST, "urllib3"), FX("network"), .sample = "urllib3.PoolManager()"},
    {ROW(OTHER, NAME, FIRST, "requests"), FX("network"), .sample = "requests.get(u)"},
    {ROW(OTHER, NAME, FIRST, "aiohttp"), FX("network"), .sample = "aiohttp.ClientSession()"},
    {ROW(OTHER, NAME, FIRST, "axios"), FX("network"), .sample = "axios.get(u)"},
    {ROW(OTHER, NAME, FIRST, "socket"), FX("network"), .sample = "socket.create_connection(a)"},
    {ROW(OTHER, NAME, FIRST, "grpc"), FX("network"), .sample = "grpc.insecure_channel(a)"},
    {ROW(OTHER, NAME, FIRST, "net"), FX("network"), .sample = "net.Dial(t, a)"},
    {ROW(OTHER, NAME, FIRST, "websocket"), FX("network"), .sample = "websocket.connect(u)"},
    {ROW(OTHER, NAME, FIRST_PREFIX_CI, "http"), FX("network"), .sample = "http.Get(u)"},
    {ROW(OTHER, CALL, LAST, "fetch"), FX("network"), .sample = "fetch(u)"},
    {ROW(OTHER, CALL, LAST, "socket"), FX("network"), .sample = "socket(AF_INET, t, 0)"},
    {ROW(OTHER, CALL, LAST, "getaddrinfo"), FX("network"), .sample = "getaddrinfo(h, p, &a, &r)"},
    {ROW(OTHER, CALL, LAST, "gethostbyname"), FX("network"), .sample = "gethostbyname(h)"},
    {ROW(OTHER, CALL, LAST, "sendto"), FX("network"), .sample = "sendto(s, b, n, 0, a, l)"},
    {ROW(OTHER, CALL, LAST, "recvfrom"), FX("network"), .sample = "recvfrom(s, b, n, 0, a, l)"},
    {ROW(OTHER, CALL, LAST, "urlopen"), FX("network"), .sample = "urlopen(u)"},
    {ROW(OTHER, CALL, LAST_PREFIX, "curl_"), FX("network"), .sample = "curl_easy_perform(h)"},
    {ROW(OTHER, CALL, LAST_PREFIX_CI, "http"), FX("network"), .sample = "HttpGet(u)"},
    {ROW(OTHER, NAME, SEGMENT, "TcpStream"), FX("network"), .sample = "x = TcpStream;"},
    {ROW(OTHER, NAME, SEGMENT, "TcpListener"), FX("network"), .sample = "x = TcpListener;"},
    {ROW(OTHER, NAME, SEGMENT, "UdpSocket"), FX("network"), .sample = "x = UdpSocket;"},
    {ROW(OTHER, NAME, SEGMENT, "XMLHttpRequest"), FX("network"), .sample = "x = XMLHttpRequest;"},
    {ROW(OTHER, NAME, SEGMENT, "WebSocket"), FX("network"), .sample = "x = WebSocket;"},
    {ROW(OTHER, NAME, SEGMENT, "Socket"), FX("network"), .sample = "x = Socket;"},
    {ROW(OTHER, NAME, SEGMENT, "ServerSocket"), FX("network"), .sample = "x = ServerSocket;"},
    {ROW(OTHER, NAME, SEGMENT, "URLConnection"), FX("network"), .sample = "x = URLConnection;"},
    {ROW(OTHER, NAME, SEGMENT, "HttpURLConnection"), FX("network"), .sample = "x = HttpURLConnection;"},

    /* ---- C and C++: free functions only (one segment, no '.' before) ---- */
    {ROW(C, CALL, LAST, "printf"), .when = WHEN_BARE, FX("prints output"), .sample = "printf(\"%d\", n);"},
    {ROW(C, CALL, LAST, "puts"), .when = WHEN_BARE, FX("prints output"), .sample = "puts(s);"},
    {ROW(C, CALL, LAST, "putchar"), .when = WHEN_BARE, FX("prints output"), .sample = "putchar(c);"},
    {ROW(C, CALL, LAST, "vprintf"), .when = WHEN_BARE, FX("prints output"), .sample = "vprintf(f, ap);"},
    {ROW(C, CALL, LAST, "perror"), .when = WHEN_BARE, FX("prints output"), .sample = "perror(p);"},
    {ROW(C, CALL, LAST, "fprintf"), .when = WHEN_BARE, .test = TEST_ARGS_STD_STREAM, FX("prints output"), .otherwise = "writes files", .sample = "fprintf(stderr, \"x\");"},
    {ROW(C, CALL, LAST, "fputs"), .when = WHEN_BARE, .test = TEST_ARGS_STD_STREAM, FX("prints output"), .otherwise = "writes files", .sample = "fputs(s, f);"},
    {ROW(C, CALL, LAST, "fputc"), .when = WHEN_BARE, .test = TEST_ARGS_STD_STREAM, FX("prints output"), .otherwise = "writes files", .sample = "fputc(c, stdout);"},
    {ROW(C, CALL, LAST, "putc"), .when = WHEN_BARE, .test = TEST_ARGS_STD_STREAM, FX("prints output"), .otherwise = "writes files", .sample = "putc(c, f);"},
    {ROW(C, CALL, LAST, "vfprintf"), .when = WHEN_BARE, .test = TEST_ARGS_STD_STREAM, FX("prints output"), .otherwise = "writes files", .sample = "vfprintf(stderr, f, ap);"},
    {ROW(C, CALL, LAST, "fwrite"), .when = WHEN_BARE, .test = TEST_ARGS_STD_STREAM, FX("prints output"), .otherwise = "writes files", .sample = "fwrite(b, 1, n, f);"},
    {ROW(C, CALL, LAST, "write"), .when = WHEN_BARE, FX("writes files"), .sample = "write(fd, b, n);"},
    {ROW(C, CALL, LAST, "pwrite"), .when = WHEN_BARE, FX("writes files"), .sample = "pwrite(fd, b, n, o);"},
    {ROW(C, CALL, LAST, "rename"), .when = WHEN_BARE, FX("writes files"), .sample = "rename(a, b);"},
    {ROW(C, CALL, LAST, "unlink"), .when = WHEN_BARE, FX("writes files"), .sample = "unlink(p);"},
    {ROW(C, CALL, LAST, "remove"), .when = WHEN_BARE, FX("writes files"), .sample = "remove(p);"},
    {ROW(C, CALL, LAST, "mkdir"), .when = WHEN_BARE, FX("writes files"), .sample = "mkdir(p, 0755);"},
    {ROW(C, CALL, LAST, "rmdir"), .when = WHEN_BARE, FX("writes files"), .sample = "rmdir(p);"},
    {ROW(C, CALL, LAST, "ftruncate"), .when = WHEN_BARE, FX("writes files"), .sample = "ftruncate(fd, 0);"},
    {ROW(C, CALL, LAST, "truncate"), .when = WHEN_BARE, FX("writes files"), .sample = "truncate(p, 0);"},
    {ROW(C, CALL, LAST, "creat"), .when = WHEN_BARE, FX("writes files"), .sample = "creat(p, 0644);"},
    {ROW(C, CALL, LAST, "fsync"), .when = WHEN_BARE, FX("writes files"), .sample = "fsync(fd);"},
    {ROW(C, CALL, LAST, "renameat"), .when = WHEN_BARE, FX("writes files"), .sample = "renameat(d, a, d, b);"},
    {ROW(C, CALL, LAST, "unlinkat"), .when = WHEN_BARE, FX("writes files"), .sample = "unlinkat(d, p, 0);"},
    {ROW(C, CALL, LAST, "fread"), .when = WHEN_BARE, FX("reads files"), .sample = "fread(b, 1, n, f);"},
    {ROW(C, CALL, LAST, "fgets"), .when = WHEN_BARE, FX("reads files"), .sample = "fgets(b, n, f);"},
    {ROW(C, CALL, LAST, "getline"), .when = WHEN_BARE, FX("reads files"), .sample = "getline(&l, &n, f);"},
    {ROW(C, CALL, LAST, "read"), .when = WHEN_BARE, FX("reads files"), .sample = "read(fd, b, n);"},
    {ROW(C, CALL, LAST, "pread"), .when = WHEN_BARE, FX("reads files"), .sample = "pread(fd, b, n, o);"},
    {ROW(C, CALL, LAST, "opendir"), .when = WHEN_BARE, FX("reads files"), .sample = "opendir(p);"},
    {ROW(C, CALL, LAST, "readdir"), .when = WHEN_BARE, FX("reads files"), .sample = "readdir(d);"},
    {ROW(C, CALL, LAST, "stat"), .when = WHEN_BARE, FX("reads files"), .sample = "stat(p, &st);"},
    {ROW(C, CALL, LAST, "fopen"), .when = WHEN_BARE, .test = TEST_ARGS_MODE_WRITES, FX("writes files"), .otherwise = "reads files", .sample = "fopen(p, \"wb\");"},
    {ROW(C, CALL, LAST, "freopen"), .when = WHEN_BARE, .test = TEST_ARGS_MODE_WRITES, FX("writes files"), .otherwise = "reads files", .sample = "freopen(p, \"r\", stdin);"},
    {ROW(C, CALL, LAST, "fdopen"), .when = WHEN_BARE, .test = TEST_ARGS_MODE_WRITES, FX("writes files"), .otherwise = "reads files", .sample = "fdopen(fd, \"a+\");"},
    {ROW(C, CALL, LAST, "open"), .when = WHEN_BARE, .test = TEST_ARGS_OPEN_WRITES, FX("writes files"), .otherwise = "reads files", .sample = "open(p, O_WRONLY | O_CREAT, 0644);"},
    {ROW(C, CALL, LAST, "openat"), .when = WHEN_BARE, .test = TEST_ARGS_OPEN_WRITES, FX("writes files"), .otherwise = "reads files", .sample = "openat(d, p, O_RDONLY);"},
    {ROW(C, CALL, LAST, "fork"), .when = WHEN_BARE, FX("spawns processes"), .sample = "fork();"},
    {ROW(C, CALL, LAST, "vfork"), .when = WHEN_BARE, FX("spawns processes"), .sample = "vfork();"},
    {ROW(C, CALL, LAST, "system"), .when = WHEN_BARE, FX("spawns processes"), .sample = "system(cmd);"},
    {ROW(C, CALL, LAST, "popen"), .when = WHEN_BARE, FX("spawns processes"), .sample = "popen(cmd, \"r\");"},
    {ROW(C, CALL, LAST, "execv"), .when = WHEN_BARE, FX("spawns processes"), .sample = "execv(p, argv);"},
    {ROW(C, CALL, LAST, "execve"), .when = WHEN_BARE, FX("spawns processes"), .sample = "execve(p, argv, envp);"},
    {ROW(C, CALL, LAST, "execvp"), .when = WHEN_BARE, FX("spawns processes"), .sample = "execvp(p, argv);"},
    {ROW(C, CALL, LAST, "execl"), .when = WHEN_BARE, FX("spawns processes"), .sample = "execl(p, p, NULL);"},
    {ROW(C, CALL, LAST, "execlp"), .when = WHEN_BARE, FX("spawns processes"), .sample = "execlp(p, p, NULL);"},
    {ROW(C, CALL, LAST, "execle"), .when = WHEN_BARE, FX("spawns processes"), .sample = "execle(p, p, NULL, envp);"},
    {ROW(C, CALL, LAST, "posix_spawn"), .when = WHEN_BARE, FX("spawns processes"), .sample = "posix_spawn(&pid, p, 0, 0, argv, envp);"},
    {ROW(C, CALL, LAST, "posix_spawnp"), .when = WHEN_BARE, FX("spawns processes"), .sample = "posix_spawnp(&pid, p, 0, 0, argv, envp);"},
    {ROW(C, CALL, LAST, "exit"), .when = WHEN_BARE, FX("exits process"), .sample = "exit(1);"},
    {ROW(C, CALL, LAST, "_exit"), .when = WHEN_BARE, FX("exits process"), .sample = "_exit(1);"},
    {ROW(C, CALL, LAST, "_Exit"), .when = WHEN_BARE, FX("exits process"), .sample = "_Exit(1);"},
    {ROW(C, CALL, LAST, "getenv"), .when = WHEN_BARE, FX("reads environment"), .sample = "getenv(\"HOME\");"},
    {ROW(C, CALL, LAST, "secure_getenv"), .when = WHEN_BARE, FX("reads environment"), .sample = "secure_getenv(\"HOME\");"},
    {ROW(C, CALL, LAST, "setenv"), .when = WHEN_BARE, FX("mutates global state"), .sample = "setenv(k, v, 1);"},
    {ROW(C, CALL, LAST, "putenv"), .when = WHEN_BARE, FX("mutates global state"), .sample = "putenv(kv);"},
    {ROW(C, CALL, LAST, "abort"), .when = WHEN_BARE, ERR("aborts"), .sample = "abort();"},
    {ROW(C, CALL, LAST, "assert"), .when = WHEN_BARE, ERR("aborts on failed assertion"), .sample = "assert(n > 0);"},

    /* ---- Rust ---- */
    {ROW(RUST, MACRO, LAST, "println"), FX("prints output"), .sample = "println!(\"{}\", x);"},
    {ROW(RUST, MACRO, LAST, "print"), FX("prints output"), .sample = "print!(\"{}\", x);"},
    {ROW(RUST, MACRO, LAST, "eprintln"), FX("prints output"), .sample = "eprintln!(\"{}\", x);"},
    {ROW(RUST, MACRO, LAST, "eprint"), FX("prints output"), .sample = "eprint!(\"{}\", x);"},
    {ROW(RUST, MACRO, LAST, "dbg"), FX("prints output"), .sample = "dbg!(x);"},
    {ROW(RUST, MACRO, LAST, "panic"), ERR("panics"), .sample = "panic!(\"no\");"},
    {ROW(RUST, MACRO, LAST, "unreachable"), ERR("panics"), .sample = "unreachable!();"},
    {ROW(RUST, MACRO, LAST, "todo"), ERR("panics"), .sample = "todo!();"},
    {ROW(RUST, MACRO, LAST, "unimplemented"), ERR("panics"), .sample = "unimplemented!();"},
    {ROW(RUST, MACRO, LAST, "assert"), ERR("panics"), .sample = "assert!(ok);"},
    {ROW(RUST, MACRO, LAST, "assert_eq"), ERR("panics"), .sample = "assert_eq!(a, b);"},
    {ROW(RUST, MACRO, LAST, "assert_ne"), ERR("panics"), .sample = "assert_ne!(a, b);"},
    {ROW(RUST, MACRO, LAST, "bail"), ERR("returns Err"), .sample = "bail!(\"no\");"},
    {ROW(RUST, CALL, CHAIN, "Err"), ERR("returns Err"), .sample = "Err(e)"},
    {ROW(RUST, CALL, LAST, "unwrap"), .when = WHEN_METHOD, ERR("panics"), .sample = "f().unwrap()"},
    {ROW(RUST, CALL, LAST, "expect"), .when = WHEN_METHOD, ERR("panics"), .sample = "f().expect(\"x\")"},
    {ROW(RUST, CALL, SUFFIX, "fs.write"), FX("writes files"), .sample = "std::fs::write(p, d)"},
    {ROW(RUST, CALL, SUFFIX, "File.create"), FX("writes files"), .sample = "File::create(p)"},
    {ROW(RUST, CALL, SUFFIX, "fs.create_dir"), FX("writes files"), .sample = "fs::create_dir(p)"},
    {ROW(RUST, CALL, SUFFIX, "fs.create_dir_all"), FX("writes files"), .sample = "fs::create_dir_all(p)"},
    {ROW(RUST, CALL, SUFFIX, "fs.remove_file"), FX("writes files"), .sample = "fs::remove_file(p)"},
    {ROW(RUST, CALL, SUFFIX, "fs.remove_dir"), FX("writes files"), .sample = "fs::remove_dir(p)"},
    {ROW(RUST, CALL, SUFFIX, "fs.remove_dir_all"), FX("writes files"), .sample = "fs::remove_dir_all(p)"},
    {ROW(RUST, CALL, SUFFIX, "fs.rename"), FX("writes files"), .sample = "fs::rename(a, b)"},
    {ROW(RUST, CALL, SUFFIX, "fs.copy"), FX("writes files"), .sample = "fs::copy(a, b)"},
    {ROW(RUST, CALL, SUFFIX, "OpenOptions.new"), FX("writes files"), .sample = "OpenOptions::new()"},
    {ROW(RUST, CALL, SUFFIX, "fs.read"), FX("reads files"), .sample = "fs::read(p)"},
    {ROW(RUST, CALL, SUFFIX, "fs.read_to_string"), FX("reads files"), .sample = "fs::read_to_string(p)"},
    {ROW(RUST, CALL, SUFFIX, "File.open"), FX("reads files"), .sample = "File::open(p)"},
    {ROW(RUST, CALL, SUFFIX, "fs.read_dir"), FX("reads files"), .sample = "fs::read_dir(p)"},
    {ROW(RUST, CALL, SUFFIX, "fs.metadata"), FX("reads files"), .sample = "fs::metadata(p)"},
    {ROW(RUST, CALL, LAST, "write_all"), .when = WHEN_METHOD, FX("writes files"), .sample = "out().write_all(b)"},
    {ROW(RUST, CALL, LAST, "sync_all"), .when = WHEN_METHOD, FX("writes files"), .sample = "out().sync_all()"},
    {ROW(RUST, CALL, SUFFIX, "Command.new"), FX("spawns processes"), .sample = "Command::new(\"ls\")"},
    {ROW(RUST, CALL, SUFFIX, "process.exit"), FX("exits process"), .sample = "std::process::exit(1)"},
    {ROW(RUST, CALL, SUFFIX, "env.var"), FX("reads environment"), .sample = "env::var(\"HOME\")"},
    {ROW(RUST, CALL, SUFFIX, "env.var_os"), FX("reads environment"), .sample = "env::var_os(\"HOME\")"},
    {ROW(RUST, CALL, SUFFIX, "env.vars"), FX("reads environment"), .sample = "env::vars()"},
    {ROW(RUST, CALL, SUFFIX, "env.set_var"), FX("mutates global state"), .sample = "env::set_var(k, v)"},
    {ROW(RUST, OPERATOR, NONE, "?"), .test = TEST_TRY_OPERATOR, ERR("propagates errors with ?"), .sample = "let n = parse(s)?;"},

    /* ---- Go ---- */
    {ROW(GO, CALL, CHAIN, "errors.New"), ERR("returns error"), .sample = "errors.New(\"no\")"},
    {ROW(GO, CALL, CHAIN, "fmt.Errorf"), ERR("returns error"), .sample = "fmt.Errorf(\"no %d\", n)"},
    {ROW(GO, CALL, CHAIN, "panic"), ERR("panics"), .sample = "panic(err)"},
    {ROW(GO, CALL, LAST_PREFIX, "Print"), .scope = "fmt", FX("prints output"), .sample = "fmt.Println(x)"},
    {ROW(GO, CALL, LAST_PREFIX, "Fprint"), .scope = "fmt", .test = TEST_ARGS_STD_STREAM, FX("prints output"), .sample = "fmt.Fprintln(os.Stderr, x)"},
    {ROW(GO, CALL, LAST_PREFIX, "Print"), .scope = "log", FX("prints output"), .sample = "log.Printf(\"%v\", x)"},
    {ROW(GO, CALL, CHAIN, "println"), FX("prints output"), .sample = "println(x)"},
    {ROW(GO, CALL, CHAIN, "print"), FX("prints output"), .sample = "print(x)"},
    {ROW(GO, CALL, LAST_PREFIX, "Fatal"), .scope = "log", FX("exits process"), .sample = "log.Fatalf(\"%v\", err)"},
    {ROW(GO, CALL, CHAIN, "os.Exit"), FX("exits process"), .sample = "os.Exit(1)"},
    {ROW(GO, CALL, CHAIN, "os.Create"), FX("writes files"), .sample = "os.Create(p)"},
    {ROW(GO, CALL, CHAIN, "os.WriteFile"), FX("writes files"), .sample = "os.WriteFile(p, b, 0o644)"},
    {ROW(GO, CALL, CHAIN, "ioutil.WriteFile"), FX("writes files"), .sample = "ioutil.WriteFile(p, b, 0644)"},
    {ROW(GO, CALL, CHAIN, "os.OpenFile"), FX("writes files"), .sample = "os.OpenFile(p, f, 0644)"},
    {ROW(GO, CALL, CHAIN, "os.Remove"), FX("writes files"), .sample = "os.Remove(p)"},
    {ROW(GO, CALL, CHAIN, "os.RemoveAll"), FX("writes files"), .sample = "os.RemoveAll(p)"},
    {ROW(GO, CALL, CHAIN, "os.Rename"), FX("writes files"), .sample = "os.Rename(a, b)"},
    {ROW(GO, CALL, CHAIN, "os.Mkdir"), FX("writes files"), .sample = "os.Mkdir(p, 0755)"},
    {ROW(GO, CALL, CHAIN, "os.MkdirAll"), FX("writes files"), .sample = "os.MkdirAll(p, 0755)"},
    {ROW(GO, CALL, CHAIN, "os.Open"), FX("reads files"), .sample = "os.Open(p)"},
    {ROW(GO, CALL, CHAIN, "os.ReadFile"), FX("reads files"), .sample = "os.ReadFile(p)"},
    {ROW(GO, CALL, CHAIN, "ioutil.ReadFile"), FX("reads files"), .sample = "ioutil.ReadFile(p)"},
    {ROW(GO, CALL, CHAIN, "os.ReadDir"), FX("reads files"), .sample = "os.ReadDir(p)"},
    {ROW(GO, CALL, CHAIN, "ioutil.ReadDir"), FX("reads files"), .sample = "ioutil.ReadDir(p)"},
    {ROW(GO, CALL, CHAIN, "exec.Command"), FX("spawns processes"), .sample = "exec.Command(\"ls\")"},
    {ROW(GO, CALL, CHAIN, "exec.CommandContext"), FX("spawns processes"), .sample = "exec.CommandContext(ctx, \"ls\")"},
    {ROW(GO, CALL, CHAIN, "os.StartProcess"), FX("spawns processes"), .sample = "os.StartProcess(p, argv, a)"},
    {ROW(GO, CALL, CHAIN, "os.Getenv"), FX("reads environment"), .sample = "os.Getenv(\"HOME\")"},
    {ROW(GO, CALL, CHAIN, "os.LookupEnv"), FX("reads environment"), .sample = "os.LookupEnv(\"HOME\")"},
    {ROW(GO, CALL, CHAIN, "os.Setenv"), FX("mutates global state"), .sample = "os.Setenv(k, v)"},

    /* ---- Python ---- */
    {ROW(PY, CALL, CHAIN, "print"), FX("prints output"), .sample = "print(x)"},
    {ROW(PY, CALL, CHAIN, "sys.stdout.write"), FX("prints output"), .sample = "sys.stdout.write(s)"},
    {ROW(PY, CALL, CHAIN, "sys.stderr.write"), FX("prints output"), .sample = "sys.stderr.write(s)"},
    {ROW(PY, CALL, CHAIN, "pprint"), FX("prints output"), .sample = "pprint(x)"},
    {ROW(PY, CALL, CHAIN, "open"), .test = TEST_ARGS_MODE_WRITES, FX("writes files"), .otherwise = "reads files", .sample = "open(p, 'w')"},
    {ROW(PY, CALL, CHAIN, "io.open"), .test = TEST_ARGS_MODE_WRITES, FX("writes files"), .otherwise = "reads files", .sample = "io.open(p)"},
    {ROW(PY, CALL, LAST, "open"), .when = WHEN_METHOD, .test = TEST_ARGS_MODE_WRITES, FX("writes files"), .otherwise = "reads files", .sample = "Path(p).parent.open('a')"},
    {ROW(PY, CALL, LAST, "write_text"), .when = WHEN_METHOD, FX("writes files"), .sample = "Path(p).write_text(s)"},
    {ROW(PY, CALL, LAST, "write_bytes"), .when = WHEN_METHOD, FX("writes files"), .sample = "Path(p).write_bytes(b)"},
    {ROW(PY, CALL, LAST, "read_text"), .when = WHEN_METHOD, FX("reads files"), .sample = "Path(p).read_text()"},
    {ROW(PY, CALL, LAST, "read_bytes"), .when = WHEN_METHOD, FX("reads files"), .sample = "Path(p).read_bytes()"},
    {ROW(PY, CALL, CHAIN, "os.remove"), FX("writes files"), .sample = "os.remove(p)"},
    {ROW(PY, CALL, CHAIN, "os.unlink"), FX("writes files"), .sample = "os.unlink(p)"},
    {ROW(PY, CALL, CHAIN, "os.rename"), FX("writes files"), .sample = "os.rename(a, b)"},
    {ROW(PY, CALL, CHAIN, "os.replace"), FX("writes files"), .sample = "os.replace(a, b)"},
    {ROW(PY, CALL, CHAIN, "os.makedirs"), FX("writes files"), .sample = "os.makedirs(p)"},
    {ROW(PY, CALL, CHAIN, "os.mkdir"), FX("writes files"), .sample = "os.mkdir(p)"},
    {ROW(PY, CALL, CHAIN, "os.rmdir"), FX("writes files"), .sample = "os.rmdir(p)"},
    {ROW(PY, CALL, CHAIN, "json.dump"), FX("writes files"), .sample = "json.dump(d, f)"},
    {ROW(PY, CALL, CHAIN, "pickle.dump"), FX("writes files"), .sample = "pickle.dump(d, f)"},
    {ROW(PY, CALL, FIRST, "shutil"), FX("writes files"), .sample = "shutil.rmtree(p)"},
    {ROW(PY, CALL, FIRST, "subprocess"), FX("spawns processes"), .sample = "subprocess.run(['ls'])"},
    {ROW(PY, CALL, CHAIN, "os.system"), FX("spawns processes"), .sample = "os.system(cmd)"},
    {ROW(PY, CALL, CHAIN, "os.popen"), FX("spawns processes"), .sample = "os.popen(cmd)"},
    {ROW(PY, CALL, CHAIN_PREFIX, "os.exec"), FX("spawns processes"), .sample = "os.execvp(p, argv)"},
    {ROW(PY, CALL, CHAIN_PREFIX, "os.spawn"), FX("spawns processes"), .sample = "os.spawnl(m, p)"},
    {ROW(PY, CALL, CHAIN, "sys.exit"), FX("exits process"), .sample = "sys.exit(1)"},
    {ROW(PY, CALL, CHAIN, "os._exit"), FX("exits process"), .sample = "os._exit(1)"},
    {ROW(PY, CALL, CHAIN, "exit"), FX("exits process"), .sample = "exit(1)"},
    {ROW(PY, CALL, CHAIN, "quit"), FX("exits process"), .sample = "quit()"},
    {ROW(PY, CALL, CHAIN, "os.getenv"), FX("reads environment"), .sample = "os.getenv('HOME')"},
    {ROW(PY, CALL, CHAIN, "os.environ.get"), FX("reads environment"), .sample = "os.environ.get('HOME')"},

    /* ---- JavaScript and TypeScript ---- */
    {ROW(JS, CALL, FIRST, "console"), FX("prints output"), .sample = "console.log(x)"},
    {ROW(JS, CALL, CHAIN, "process.stdout.write"), FX("prints output"), .sample = "process.stdout.write(s)"},
    {ROW(JS, CALL, CHAIN, "process.stderr.write"), FX("prints output"), .sample = "process.stderr.write(s)"},
#define FS "fs fsp fsPromises"
    {ROW(JS, CALL, LAST, "writeFile"), .scope = FS, FX("writes files"), .sample = "fs.writeFile(p, d)"},
    {ROW(JS, CALL, LAST, "writeFileSync"), .scope = FS, FX("writes files"), .sample = "fs.writeFileSync(p, d)"},
    {ROW(JS, CALL, LAST, "appendFile"), .scope = FS, FX("writes files"), .sample = "fsp.appendFile(p, d)"},
    {ROW(JS, CALL, LAST, "appendFileSync"), .scope = FS, FX("writes files"), .sample = "fs.appendFileSync(p, d)"},
    {ROW(JS, CALL, LAST, "createWriteStream"), .scope = FS, FX("writes files"), .sample = "fs.createWriteStream(p)"},
    {ROW(JS, CALL, LAST, "mkdir"), .scope = FS, FX("writes files"), .sample = "fsPromises.mkdir(p)"},
    {ROW(JS, CALL, LAST, "mkdirSync"), .scope = FS, FX("writes files"), .sample = "fs.mkdirSync(p)"},
    {ROW(JS, CALL, LAST, "unlink"), .scope = FS, FX("writes files"), .sample = "fs.unlink(p)"},
    {ROW(JS, CALL, LAST, "unlinkSync"), .scope = FS, FX("writes files"), .sample = "fs.unlinkSync(p)"},
    {ROW(JS, CALL, LAST, "rm"), .scope = FS, FX("writes files"), .sample = "fs.rm(p)"},
    {ROW(JS, CALL, LAST, "rmSync"), .scope = FS, FX("writes files"), .sample = "fs.rmSync(p)"},
    {ROW(JS, CALL, LAST, "rename"), .scope = FS, FX("writes files"), .sample = "fs.rename(a, b)"},
    {ROW(JS, CALL, LAST, "renameSync"), .scope = FS, FX("writes files"), .sample = "fs.renameSync(a, b)"},
    {ROW(JS, CALL, LAST, "write"), .scope = FS, FX("writes files"), .sample = "fs.write(fd, b)"},
    {ROW(JS, CALL, LAST, "writeSync"), .scope = FS, FX("writes files"), .sample = "fs.writeSync(fd, b)"},
    {ROW(JS, CALL, LAST, "copyFile"), .scope = FS, FX("writes files"), .sample = "fs.copyFile(a, b)"},
    {ROW(JS, CALL, LAST, "copyFileSync"), .scope = FS, FX("writes files"), .sample = "fs.copyFileSync(a, b)"},
    {ROW(JS, CALL, LAST, "readFile"), .scope = FS, FX("reads files"), .sample = "fs.readFile(p)"},
    {ROW(JS, CALL, LAST, "readFileSync"), .scope = FS, FX("reads files"), .sample = "fs.readFileSync(p)"},
    {ROW(JS, CALL, LAST, "createReadStream"), .scope = FS, FX("reads files"), .sample = "fs.createReadStream(p)"},
    {ROW(JS, CALL, LAST, "readdir"), .scope = FS, FX("reads files"), .sample = "fs.readdir(p)"},
    {ROW(JS, CALL, LAST, "readdirSync"), .scope = FS, FX("reads files"), .sample = "fs.readdirSync(p)"},
    {ROW(JS, CALL, LAST, "read"), .scope = FS, FX("reads files"), .sample = "fs.read(fd, b)"},
    {ROW(JS, CALL, LAST, "readSync"), .scope = FS, FX("reads files"), .sample = "fs.readSync(fd, b)"},
#undef FS
#define CP "child_process cp childProcess"
    {ROW(JS, CALL, LAST, "spawn"), .scope = CP, FX("spawns processes"), .sample = "cp.spawn(c)"},
    {ROW(JS, CALL, LAST, "spawnSync"), .scope = CP, FX("spawns processes"), .sample = "child_process.spawnSync(c)"},
    {ROW(JS, CALL, LAST, "exec"), .scope = CP, FX("spawns processes"), .sample = "cp.exec(c)"},
    {ROW(JS, CALL, LAST, "execSync"), .scope = CP, FX("spawns processes"), .sample = "childProcess.execSync(c)"},
    {ROW(JS, CALL, LAST, "execFile"), .scope = CP, FX("spawns processes"), .sample = "cp.execFile(c)"},
    {ROW(JS, CALL, LAST, "execFileSync"), .scope = CP, FX("spawns processes"), .sample = "cp.execFileSync(c)"},
    {ROW(JS, CALL, LAST, "fork"), .scope = CP, FX("spawns processes"), .sample = "cp.fork(m)"},
#undef CP
    /* imported by name (`const { spawn } = require(...)`); a bare exec() is too common a name */
    {ROW(JS, CALL, LAST, "spawn"), .when = WHEN_BARE, FX("spawns processes"), .sample = "spawn(c)"},
    {ROW(JS, CALL, LAST, "spawnSync"), .when = WHEN_BARE, FX("spawns processes"), .sample = "spawnSync(c)"},
    {ROW(JS, CALL, LAST, "execSync"), .when = WHEN_BARE, FX("spawns processes"), .sample = "execSync(c)"},
    {ROW(JS, CALL, LAST, "execFile"), .when = WHEN_BARE, FX("spawns processes"), .sample = "execFile(c)"},
    {ROW(JS, CALL, LAST, "execFileSync"), .when = WHEN_BARE, FX("spawns processes"), .sample = "execFileSync(c)"},
    {ROW(JS, CALL, LAST, "fork"), .when = WHEN_BARE, FX("spawns processes"), .sample = "fork(m)"},
    {ROW(JS, CALL, CHAIN, "process.exit"), FX("exits process"), .sample = "process.exit(1)"},
    {ROW(JS, CALL, CHAIN, "Promise.reject"), ERR("rejects promise"), .sample = "Promise.reject(e)"},

    /* ---- Java, C#, Kotlin, Scala ---- */
    {ROW(JAVA, CALL, CHAIN_PREFIX, "System.out.print"), FX("prints output"), .sample = "System.out.println(x);"},
    {ROW(JAVA, CALL, CHAIN_PREFIX, "System.err.print"), FX("prints output"), .sample = "System.err.printf(f, x);"},
    {ROW(JAVA, CALL, CHAIN, "println"), FX("prints output"), .sample = "println(x)"},
    {ROW(JAVA, CALL, SUFFIX, "FileWriter"), FX("writes files"), .sample = "new FileWriter(p);"},
    {ROW(JAVA, CALL, SUFFIX, "FileOutputStream"), FX("writes files"), .sample = "new FileOutputStream(p);"},
    {ROW(JAVA, CALL, SUFFIX, "Files.write"), FX("writes files"), .sample = "Files.write(p, b);"},
    {ROW(JAVA, CALL, SUFFIX, "Files.writeString"), FX("writes files"), .sample = "Files.writeString(p, s);"},
    {ROW(JAVA, CALL, SUFFIX, "Files.delete"), FX("writes files"), .sample = "Files.delete(p);"},
    {ROW(JAVA, CALL, SUFFIX, "Files.createDirectories"), FX("writes files"), .sample = "Files.createDirectories(p);"},
    {ROW(JAVA, CALL, SUFFIX, "Files.move"), FX("writes files"), .sample = "Files.move(a, b);"},
    {ROW(JAVA, CALL, SUFFIX, "FileReader"), FX("reads files"), .sample = "new FileReader(p);"},
    {ROW(JAVA, CALL, SUFFIX, "FileInputStream"), FX("reads files"), .sample = "new FileInputStream(p);"},
    {ROW(JAVA, CALL, SUFFIX, "Files.readAllBytes"), FX("reads files"), .sample = "Files.readAllBytes(p);"},
    {ROW(JAVA, CALL, SUFFIX, "Files.readString"), FX("reads files"), .sample = "Files.readString(p);"},
    {ROW(JAVA, CALL, SUFFIX, "Files.readAllLines"), FX("reads files"), .sample = "Files.readAllLines(p);"},
    {ROW(JAVA, CALL, SUFFIX, "Files.lines"), FX("reads files"), .sample = "Files.lines(p);"},
    {ROW(JAVA, CALL, LAST, "ProcessBuilder"), FX("spawns processes"), .sample = "new ProcessBuilder(c);"},
    /* only as one chain: Runtime.getRuntime().exec(c) is two (see docs/ARCHITECTURE.md) */
    {ROW(JAVA, CALL, SUFFIX, "getRuntime.exec"), FX("spawns processes"), .sample = "rt.getRuntime.exec(c);"},
    {ROW(JAVA, CALL, CHAIN, "System.exit"), FX("exits process"), .sample = "System.exit(1);"},
    {ROW(JAVA, CALL, CHAIN, "exitProcess"), FX("exits process"), .sample = "exitProcess(1)"},
    {ROW(JAVA, CALL, CHAIN, "System.getenv"), FX("reads environment"), .sample = "System.getenv(\"HOME\");"},
};
/* clang-format on */

const static_rule *static_rules(size_t *n)
{
    *n = sizeof rules / sizeof rules[0];
    return rules;
}

/* ---- the tests rows name ---------------------------------------------------------------- */

static const char *const std_streams[] = {"stdout", "stderr", "Stdout", "Stderr", NULL};
static const char *const open_write_flags[] = {"O_WRONLY", "O_RDWR",   "O_CREAT",
                                               "O_TRUNC",  "O_APPEND", NULL};

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool args_contain(const body_ctx *c, size_t open, const char *const *words)
{
    size_t a, b;
    static_call_args(c, open, &a, &b);
    for (; *words; words++) {
        size_t wl = strlen(*words);
        for (size_t i = a; i + wl <= b; i++)
            if (strncmp(c->code + i, *words, wl) == 0 && !static_ident_char(c->code[i + wl]) &&
                (i == 0 || !static_ident_char(c->code[i - 1])))
                return true;
    }
    return false;
}

/* A file-mode string literal among the arguments that writes ("w", "a+", "x"). */
static bool mode_writes(const body_ctx *c, size_t open)
{
    size_t a, b;
    static_call_args(c, open, &a, &b);
    for (size_t i = a; i < b; i++) {
        char q = c->raw[i];
        if (q != '"' && q != '\'') continue;
        size_t k = i + 1;
        while (k < b && c->raw[k] != q)
            k++;
        size_t len = k - i - 1;
        if (len >= 1 && len <= 4 && strspn(c->raw + i + 1, "rwabxtU+") >= len &&
            strcspn(c->raw + i + 1, "wax+") < len)
            return true;
        i = k;
    }
    return false;
}

/* Go: "return ..., err" / "return fmt.Errorf(...)": the last returned value names an error. */
static bool go_returns_error(const body_ctx *c, size_t i)
{
    const char *s = c->code;
    size_t end = i;
    int depth = 0;
    size_t last_comma = i;
    for (; s[end] && end - i < STATIC_WINDOW; end++) {
        char ch = s[end];
        if (ch == '(' || ch == '[' || ch == '{') depth++;
        if (ch == ')' || ch == ']' || ch == '}') {
            if (depth == 0) break;
            depth--;
        }
        if (depth == 0 && (ch == '\n' || ch == ';')) break;
        if (depth == 0 && ch == ',') last_comma = end + 1;
    }
    size_t k = static_skip_space(s, last_comma);
    if (!static_ident_start(s[k])) return false;
    char chain[STATIC_CHAIN_MAX];
    size_t last_at;
    static_read_chain(s, k, chain, sizeof chain, &last_at);
    for (char *p = chain; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return strstr(chain, "err") != NULL;
}

/* `word` as a whole token at s + j: a number is not followed by a digit ("-1", not "-10"), a
 * name not by an identifier byte ("NULL", not "NULLABLE"). */
static bool word_at(const char *s, size_t j, const char *word)
{
    size_t n = strlen(word);
    if (!starts(s + j, word)) return false;
    char after = s[j + n];
    return isdigit((unsigned char)word[n - 1]) ? !isdigit((unsigned char)after)
                                               : !static_ident_char(after);
}

/* Rust's `?` after a call or a value: errors are propagated to the caller. */
static bool try_operator(const char *code, size_t from)
{
    for (size_t i = from; code[i]; i++) {
        if (code[i] != '?' || i == 0) continue;
        char p = code[i - 1], n = code[i + 1];
        if ((p == ')' || p == ']' || static_ident_char(p) || p == '?') &&
            (n == ';' || n == ',' || n == ')' || n == '.' || n == '?' || n == '\0' ||
             isspace((unsigned char)n) || n == '}'))
            return true;
    }
    return false;
}

int static_rule_test(const body_ctx *c, const static_rule *r, const chain_site *at, char *name,
                     size_t cap)
{
    const char *s = c->code;
    size_t k = at ? at->end : 0, j = at ? static_skip_space(s, k) : 0, last_at;
    name[0] = '\0';
    switch (r->test) {
    case TEST_NONE:
        return 1;
    case TEST_ARGS_STD_STREAM:
        return args_contain(c, at->open, std_streams);
    case TEST_ARGS_MODE_WRITES:
        return mode_writes(c, at->open);
    case TEST_ARGS_OPEN_WRITES:
        return args_contain(c, at->open, open_write_flags);
    case TEST_FOLLOWED_BY:
        while (s[j] == '(' || s[j] == ' ')
            j++;
        return word_at(s, j, r->word);
    case TEST_GO_RETURNS_ERROR:
        return go_returns_error(c, k);
    case TEST_NAME_FOLLOWS:
        return j > k && static_ident_start(s[j]);
    case TEST_SPACE_FOLLOWS:
        return j > k;
    case TEST_ASSIGNED:
        return s[j] == '=' && s[j + 1] != '=';
    case TEST_RAISED_NAME:
        if (!static_ident_start(s[j])) return 0;
        static_read_chain(s, j, name, cap, &last_at);
        return 1;
    case TEST_THROWN_TYPE:
        if (starts(s + j, "new") && !static_ident_char(s[j + 3])) j = static_skip_space(s, j + 3);
        if (!static_ident_start(s[j])) return 0;
        static_read_chain(s, j, name, cap, &last_at);
        if (isupper((unsigned char)name[last_at])) return 1;
        name[0] = '\0';
        return 0;
    case TEST_TRY_OPERATOR:
        return try_operator(s, c->body);
    }
    return 0;
}
