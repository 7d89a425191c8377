/**
 * The selected-state message commands (RFC 9051 §6.4), each in its own file under `commands/`:
 * FETCH, STORE, COPY/MOVE, EXPUNGE/UID EXPUNGE, SEARCH, SORT, THREAD, dispatched by name.
 */
import type { ImapCommand } from './command.ts';
import type { CommandResult, ImapContext } from './context.ts';
import { handleCopyMove } from './commands/copy-move.ts';
import { handleExpunge } from './commands/expunge.ts';
import { handleFetch } from './commands/fetch.ts';
import { handleSearch } from './commands/search.ts';
import { handleSort } from './commands/sort.ts';
import { handleStore } from './commands/store.ts';
import { handleThread } from './commands/thread.ts';

export type SelectedCommand = Extract<ImapCommand, { name: 'FETCH' | 'STORE' | 'COPY' | 'MOVE' | 'EXPUNGE' | 'SEARCH' | 'SORT' | 'THREAD' }>;

export function runSelectedCommand(context: ImapContext, command: SelectedCommand): Promise<CommandResult> {
  switch (command.name) {
    case 'FETCH':
      return handleFetch(context, command);
    case 'STORE':
      return handleStore(context, command);
    case 'COPY':
    case 'MOVE':
      return handleCopyMove(context, command);
    case 'EXPUNGE':
      return handleExpunge(context, command);
    case 'SEARCH':
      return handleSearch(context, command);
    case 'SORT':
      return handleSort(context, command);
    case 'THREAD':
      return handleThread(context, command);
  }
}
