// Every `kubectl airlock` subcommand, in the order `kubectl airlock --help` lists them. Add a
// subcommand by writing it in its own file and adding it here.
import { approveCommand, denyCommand } from './approve-command.ts';
import { completionCommand } from './completion-command.ts';
import { getCommand, listCommand } from './list-command.ts';
import { replayCommand, sessionsCommand, verifyCommand } from './session-commands.ts';
import type { Subcommand } from './subcommand.ts';

export const SUBCOMMANDS: readonly Subcommand[] = [listCommand, getCommand, approveCommand, denyCommand, sessionsCommand, replayCommand, verifyCommand, completionCommand];
