/* aetherd: the command-line front end; the only code that prints. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--version")) {
            printf("aetherd %s\n", AE_VERSION);
            return 0;
        }
    }
    fprintf(stderr, "usage: aetherd [--workspace DIR] [--index-once] [--search QUERY]\n");
    return 2;
}
