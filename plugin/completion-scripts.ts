// The scripts `kubectl airlock completion bash|zsh|fish` prints. Each asks the plugin itself for
// candidates (`kubectl-airlock __complete WORDS…`, completion.ts), so the three shells complete
// the same subcommands, flags, ApprovalRequest names and session ids. They complete the launchers
// called by name (kubectl-airlock, kubectl-approve); `kubectl airlock <TAB>` is kubectl's own
// completion, which runs kubectl_complete-airlock (beside the launchers in plugin/bin).

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const PROGRAMS = 'kubectl-airlock kubectl-approve';

const HEADER = (shell: Shell, load: string): string => `# ${shell} completion for ${PROGRAMS} (kubectl airlock completion ${shell}).
# Load it now with: ${load}
# For \`kubectl airlock <TAB>\` and \`kubectl approve <TAB>\`, load kubectl's own completion
# (kubectl completion ${shell}) and keep kubectl_complete-airlock and kubectl_complete-approve, which
# ship beside kubectl-airlock, on PATH: kubectl (1.26 or later) asks them.
`;

// Directive bits (completion.ts DIRECTIVE): 4 no file completion, 16 directories only.
const BASH = `${HEADER('bash', 'source <(kubectl airlock completion bash)')}
__kubectl_airlock_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out directive line
  local -a values=()
  out=$("\${COMP_WORDS[0]}" __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  directive=\${out##*:}
  while IFS= read -r line; do
    [[ -z $line || $line == :* ]] && continue
    values+=("\${line%%$'\\t'*}")
  done <<< "$out"
  COMPREPLY=()
  if (( \${#values[@]} > 0 )); then
    mapfile -t COMPREPLY < <(compgen -W "\${values[*]}" -- "$cur")
  elif (( (directive & 16) != 0 )); then
    mapfile -t COMPREPLY < <(compgen -d -- "$cur")
  elif (( (directive & 4) == 0 )); then
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  fi
}
complete -F __kubectl_airlock_complete ${PROGRAMS}
`;

const ZSH = `#compdef ${PROGRAMS}
${HEADER('zsh', 'source <(kubectl airlock completion zsh)   (after compinit)')}
__kubectl_airlock_complete() {
  local out directive line
  local -a lines described
  out=$("\${words[1]}" __complete "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  lines=("\${(@f)out}")
  directive=\${lines[-1]#:}
  for line in "\${(@)lines[1,-2]}"; do
    [[ -z $line ]] && continue
    if [[ $line == *$'\\t'* ]]; then
      described+=("\${\${line%%$'\\t'*}//:/\\\\:}:\${line#*$'\\t'}")
    else
      described+=("\${line//:/\\\\:}")
    fi
  done
  if (( \${#described} > 0 )); then
    _describe 'kubectl airlock' described
  elif (( directive & 16 )); then
    _files -/
  elif (( ! (directive & 4) )); then
    _files
  fi
}
compdef __kubectl_airlock_complete ${PROGRAMS}
`;

const FISH = `${HEADER('fish', 'kubectl airlock completion fish | source')}
function __kubectl_airlock_complete
    set -l words (commandline -opc)
    set -l cmd $words[1]
    set -e words[1]
    set -l current (commandline -ct)
    set -l out ($cmd __complete $words "$current" 2>/dev/null)
    or return
    set -l directive (string replace -- ':' '' $out[-1])
    set -e out[-1]
    if test (count $out) -gt 0
        printf '%s\\n' $out
    else if test (math "bitand($directive, 16)") -ne 0
        __fish_complete_directories "$current"
    else if test (math "bitand($directive, 4)") -eq 0
        __fish_complete_path "$current"
    end
end
complete -c kubectl-airlock -f -a '(__kubectl_airlock_complete)'
complete -c kubectl-approve -f -a '(__kubectl_airlock_complete)'
`;

export function completionScript(shell: Shell): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell];
}
