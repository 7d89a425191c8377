/**
 * THREAD=ORDEREDSUBJECT (RFC 5256 §2.3): messages grouped by base subject; in each group the
 * earliest message (by sent date) is the parent of all the others, which are siblings in
 * sent-date order; the threads are ordered by the sent date of their first message.
 */
import { baseSubject } from '../sort/base-subject.ts';
import { bySentDate, type ThreadInput, type ThreadNode } from './thread.ts';

export function orderedSubjectThreads(messages: readonly ThreadInput[]): ThreadNode[] {
  const groups = new Map<string, ThreadInput[]>();
  for (const message of messages) {
    const key = baseSubject(message.subject).key;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(message);
  }
  const threads: ThreadNode[] = [];
  for (const group of groups.values()) {
    group.sort(bySentDate);
    const [first, ...rest] = group;
    threads.push({ message: first, children: rest.map((message) => ({ message, children: [] })) });
  }
  return threads.sort((a, b) => bySentDate(a.message as ThreadInput, b.message as ThreadInput));
}
