# bash completion for aetherd (installed as
# share/bash-completion/completions/aetherd).  The flags are read from
# `aetherd --help` -- the table in src/cli/args.c -- once per shell, so they
# never fall behind the program; values with a fixed set of choices are
# completed from the lists below (tests/cli/test_man.sh checks them against
# the program's usage errors).
_aetherd_flags=""
_aetherd() {
  local cur prev
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  if [ -z "$_aetherd_flags" ]; then
    _aetherd_flags=$("${COMP_WORDS[0]}" --help 2>/dev/null |
      sed -n 's/^  \(-[a-z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p' | tr '\n' ' ')
  fi
  # --flag=VALUE: complete the value after '='
  if [[ $cur == --*=* ]]; then
    prev=${cur%%=*}
    cur=${cur#*=}
  fi
  case $prev in
    --workspace)
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      return ;;
    --import-embeddings | --export-embeddings)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return ;;
    --search-mode)
      mapfile -t COMPREPLY < <(compgen -W "lexical semantic hybrid" -- "$cur")
      return ;;
    --output)
      mapfile -t COMPREPLY < <(compgen -W "table json" -- "$cur")
      return ;;
    --retrain)
      mapfile -t COMPREPLY < <(compgen -W "auto never always" -- "$cur")
      return ;;
    --verify-mode)
      mapfile -t COMPREPLY < <(compgen -W "host container microvm" -- "$cur")
      return ;;
    --search | --search-vector | --search-limit | --language | --path-prefix | --kind | --nprobe | \
      --refine | --inference-provider | --search-provider | --search-model | --sir-concurrency | --inference-model | \
      --inference-endpoint | --inference-api-key-env | --verify-command)
      COMPREPLY=()
      return ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "$_aetherd_flags" -- "$cur")
}
complete -F _aetherd aetherd
