// The queue checker (test/fixtures/queue-checker.ts) on hand-built histories: a clean one reports
// zeros everywhere, and each anomaly is found, alone, in a history made to have it, with the
// example naming what was seen; boundaries (rebalance, restart) and gaps in the log are not
// mistaken for anomalies; the options decide which kinds count.
import { describe, expect, it } from 'vitest';

import { ANOMALY_KINDS, checkQueue, formatReport, QueueHistory, type AnomalyKind, type QueueReport } from '../fixtures/queue-checker.js';

/** The kinds found that count under the report's options, with their counts (zeros left out). */
function found(report: QueueReport): Partial<Record<AnomalyKind, number>> {
  return Object.fromEntries(report.counted.filter((kind) => report.counts[kind] > 0).map((kind) => [kind, report.counts[kind]]));
}

/** Sends `values` from `producer`, each acknowledged at the next offset of `partition` from `firstOffset`. */
function sendAll(history: QueueHistory, producer: string, partition: number, firstOffset: number, values: string[]): void {
  values.forEach((value, i) => {
    history.sendStarted(value, producer);
    history.acked(value, partition, firstOffset + i);
  });
}

/** A final read of `partition` holding `values` from offset 0 (null leaves an offset out, as a control record would). */
function finalRead(history: QueueHistory, partition: number, values: Array<string | null>): void {
  values.forEach((value, offset) => {
    if (value !== null) history.finalRead(partition, offset, value);
  });
}

describe('checkQueue', () => {
  it('a clean history: two producers, two consumers with a rebalance, a failed send absent and a timed-out one present', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a0', 'a1', 'a2']);
    sendAll(history, 'w2', 1, 0, ['b0', 'b1']);
    history.sendStarted('a3', 'w1');
    history.failed('a3', new Error('NOT_ENOUGH_REPLICAS'));
    history.sendStarted('b2', 'w2');
    history.indeterminate('b2', 'request timed out');
    finalRead(history, 0, ['a0', 'a1', 'a2']);
    finalRead(history, 1, ['b0', 'b1', 'b2']);
    history.polled('c1', 0, 0, 'a0');
    history.polled('c1', 1, 0, 'b0');
    history.rebalanced('c1');
    history.rebalanced('c2');
    history.polled('c1', 0, 1, 'a1');
    history.polled('c1', 0, 2, 'a2');
    history.polled('c2', 1, 1, 'b1');
    history.polled('c2', 1, 2, 'b2');

    const report = checkQueue(history, { groupExactlyOnce: true, consumedToEnd: true });
    expect(found(report)).toEqual({});
    expect(report.valid).toBe(true);
    expect(report.counted).toEqual(ANOMALY_KINDS);
    expect(report.stats).toEqual({
      sent: 7,
      acked: 5,
      failed: 1,
      indeterminate: 1,
      unanswered: 0,
      recoveredIndeterminate: 1,
      polled: 6,
      consumers: 2,
      finalRead: 6,
    });
    expect(formatReport(report)).toBe(
      'valid: lost 0, unseen 0, duplicated 0, inconsistentOffsets 0, reorderedPolls 0, reorderedSends 0, skippedPolls 0, ' +
        'unexpected 0, redelivered 0, unpolled 0; sent 7, acked 5, failed 1, indeterminate 1, unanswered 0, ' +
        'recovered indeterminate 1, polled 6 by 2 consumers, final read 6',
    );
  });

  it('lost: acknowledged, absent from a final read that goes past its offset', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a', 'b', 'c']);
    history.polled('c1', 0, 1, 'b');
    finalRead(history, 0, ['a', null, 'c']);
    const report = checkQueue(history);
    expect(found(report)).toEqual({ lost: 1 });
    expect(report.valid).toBe(false);
    expect(report.anomalies.lost[0]).toMatchObject({ value: 'b', partition: 0, offset: 1 });
    expect(report.anomalies.lost[0]!.detail).toBe("'b' acked at p0@1 (a consumer had polled it); the final read of p0 ends at 2 without it");
  });

  it('unseen: acknowledged at or past the end of the final read (a cut tail), or on a partition it found empty', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a', 'b', 'c']);
    sendAll(history, 'w2', 1, 0, ['x']);
    finalRead(history, 0, ['a']);
    const report = checkQueue(history);
    expect(found(report)).toEqual({ unseen: 3 });
    expect(report.anomalies.unseen.map((anomaly) => anomaly.detail)).toEqual([
      "'b' acked at p0@1; the final read of p0 ends at 0",
      "'c' acked at p0@2; the final read of p0 ends at 0",
      "'x' acked at p1@0; the final read of p1 holds nothing",
    ]);
  });

  it('duplicated: one value at two offsets, in the log or in two acknowledgements; not counted when duplicates are allowed', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a', 'b']);
    history.acked('b', 0, 2); // a retry the broker wrote again
    finalRead(history, 0, ['a', 'b', 'b']);
    history.sendStarted('c', 'w1');
    history.indeterminate('c');
    history.finalRead(0, 3, 'c');
    history.finalRead(0, 4, 'c'); // written twice though never acknowledged
    const report = checkQueue(history);
    expect(found(report)).toEqual({ duplicated: 2 });
    expect(report.anomalies.duplicated.map((anomaly) => anomaly.detail)).toEqual(["'b' at p0@1, p0@2", "'c' at p0@3, p0@4"]);
    const allowed = checkQueue(history, { duplicatesAllowed: true });
    expect(allowed.valid).toBe(true);
    expect(allowed.counts.duplicated).toBe(2);
    expect(formatReport(allowed)).toMatch(/^valid: .*\(duplicated 2\)/);
  });

  it('inconsistentOffsets: one offset read as two values, by a consumer and the final read', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a']);
    history.sendStarted('b', 'w1');
    history.indeterminate('b');
    history.sendStarted('c', 'w1');
    history.indeterminate('c');
    history.polled('c1', 0, 0, 'a');
    history.polled('c1', 0, 1, 'b'); // read from a leader whose tail was later replaced
    finalRead(history, 0, ['a', 'c']);
    const report = checkQueue(history);
    expect(found(report)).toEqual({ inconsistentOffsets: 1 });
    expect(report.anomalies.inconsistentOffsets[0]).toMatchObject({ partition: 0, offset: 1 });
    expect(report.anomalies.inconsistentOffsets[0]!.detail).toBe("p0@1 read as 'b' (poll by c1) and 'c' (final read)");
  });

  it('inconsistentOffsets counts acknowledgements too: a value acked at an offset that holds another', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a', 'b']);
    history.sendStarted('c', 'w2');
    history.indeterminate('c');
    finalRead(history, 0, ['a', 'c']);
    const report = checkQueue(history);
    expect(found(report)).toEqual({ inconsistentOffsets: 1, unseen: 1 });
    expect(report.anomalies.inconsistentOffsets[0]!.detail).toBe("p0@1 read as 'b' (ack to w1) and 'c' (final read)");
  });

  it('reorderedPolls: a consumer going back on a partition with no boundary; after a rebalance or restart it may', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a', 'b', 'c']);
    finalRead(history, 0, ['a', 'b', 'c']);
    for (const value of ['a', 'b', 'c']) history.polled('c1', 0, ['a', 'b', 'c'].indexOf(value), value);
    history.polled('c1', 0, 1, 'b'); // back from 2 to 1
    history.polled('c1', 0, 2, 'c');
    history.rebalanced('c1');
    history.polled('c1', 0, 0, 'a'); // from the committed offset: fine
    history.restarted('c1');
    history.polled('c1', 0, 1, 'b');
    history.polled('c1', 0, 1, 'b'); // the same offset twice
    const report = checkQueue(history);
    expect(found(report)).toEqual({ reorderedPolls: 2 });
    expect(report.counts.redelivered).toBe(3); // found, but redelivery is fine without groupExactlyOnce
    expect(report.valid).toBe(false);
    expect(report.anomalies.reorderedPolls.map((anomaly) => anomaly.detail)).toEqual([
      'c1 polled p0@2 then p0@1 with no rebalance or restart between',
      'c1 polled p0@1 then p0@1 with no rebalance or restart between',
    ]);
  });

  it('reorderedSends: one producer\'s values acked out of their send order on a partition; other partitions and producers are apart', () => {
    const history = new QueueHistory();
    history.sendStarted('a', 'w1');
    history.sendStarted('b', 'w1');
    history.sendStarted('x', 'w1');
    history.sendStarted('y', 'w2');
    history.acked('b', 0, 0);
    history.acked('a', 0, 1); // sent first, written second
    history.acked('x', 1, 0);
    history.acked('y', 0, 2);
    finalRead(history, 0, ['b', 'a', 'y']);
    finalRead(history, 1, ['x']);
    const report = checkQueue(history);
    expect(found(report)).toEqual({ reorderedSends: 1 });
    expect(report.anomalies.reorderedSends[0]!.detail).toBe("w1 sent 'a' then 'b', acked at p0@1 then p0@0");
  });

  it('skippedPolls: a consumer jumping over records of the final read; gaps in the log are no skip', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a', 'b', 'c', 'd']);
    history.sendStarted('e', 'w1');
    history.acked('e', 0, 5);
    finalRead(history, 0, ['a', 'b', 'c', 'd', null, 'e']); // offset 4: a control record
    history.polled('c1', 0, 0, 'a');
    history.polled('c1', 0, 3, 'd'); // over 1 and 2
    history.polled('c1', 0, 5, 'e'); // over the gap at 4: fine
    history.rebalanced('c1');
    history.polled('c2', 0, 1, 'b');
    const report = checkQueue(history);
    expect(found(report)).toEqual({ skippedPolls: 1 });
    expect(report.anomalies.skippedPolls[0]!.detail).toBe('c1 went from p0@0 to p0@3, over offsets 1, 2 of the final read');
  });

  it('unexpected: a value read that was never sent', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a']);
    finalRead(history, 0, ['a', 'ghost']);
    history.polled('c1', 0, 1, 'ghost');
    const report = checkQueue(history);
    expect(found(report)).toEqual({ unexpected: 1 });
    expect(report.anomalies.unexpected[0]!.detail).toBe("'ghost' at p0@1 (poll by c1, final read) was never sent");
  });

  it('redelivered: at-least-once redelivery after a restart is fine, unless the group must deliver exactly once', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a', 'b']);
    finalRead(history, 0, ['a', 'b']);
    history.polled('c1', 0, 0, 'a');
    history.polled('c1', 0, 1, 'b');
    history.restarted('c1');
    history.polled('c1', 0, 1, 'b');
    const atLeastOnce = checkQueue(history);
    expect(atLeastOnce.valid).toBe(true);
    expect(found(atLeastOnce)).toEqual({});
    expect(atLeastOnce.counts.redelivered).toBe(1);
    const exactlyOnce = checkQueue(history, { groupExactlyOnce: true });
    expect(exactlyOnce.valid).toBe(false);
    expect(found(exactlyOnce)).toEqual({ redelivered: 1 });
    expect(exactlyOnce.anomalies.redelivered[0]!.detail).toBe("'b' at p0@1 polled 2 times (c1, c1)");
  });

  it('unpolled: a record of the final read no consumer polled counts only when the consumers ran to the end', () => {
    const history = new QueueHistory();
    sendAll(history, 'w1', 0, 0, ['a', 'b']);
    finalRead(history, 0, ['a', 'b']);
    history.polled('c1', 0, 0, 'a');
    expect(checkQueue(history).valid).toBe(true);
    const report = checkQueue(history, { consumedToEnd: true });
    expect(found(report)).toEqual({ unpolled: 1 });
    expect(report.valid).toBe(false);
    expect(report.anomalies.unpolled[0]!.detail).toBe("'b' at p0@1 was never polled");
  });

  it('recovered indeterminate: failed, timed-out and unanswered sends found later are counted, not anomalies', () => {
    const history = new QueueHistory();
    for (const value of ['f', 't', 'u', 'gone']) history.sendStarted(value, 'w1');
    history.failed('f', new Error('KafkaJSNumberOfRetriesAttempted'));
    history.indeterminate('t');
    history.failed('gone', 'NOT_ENOUGH_REPLICAS');
    finalRead(history, 0, ['f', 't']);
    history.polled('c1', 0, 2, 'u');
    history.finalRead(0, 2, 'u');
    const report = checkQueue(history);
    expect(found(report)).toEqual({});
    expect(report.stats).toMatchObject({ sent: 4, acked: 0, failed: 2, indeterminate: 1, unanswered: 1, recoveredIndeterminate: 3 });
  });

  it('an ack later on a retried value keeps the value acknowledged, and an outcome for a value never sent throws', () => {
    const history = new QueueHistory();
    history.sendStarted('a', 'w1');
    history.indeterminate('a');
    history.sendStarted('a', 'w1'); // the retry
    history.acked('a', 0, 0);
    finalRead(history, 0, ['a']);
    const report = checkQueue(history);
    expect(report.valid).toBe(true);
    expect(report.stats).toMatchObject({ sent: 1, acked: 1, indeterminate: 0 });
    expect(() => history.acked('never', 0, 1)).toThrow(/never started/);
  });

  it('formatReport: a line of counts, then up to N examples of each counted kind, and how many more', () => {
    const history = new QueueHistory();
    const values = Array.from({ length: 7 }, (_, i) => `v${i}`);
    sendAll(history, 'w1', 0, 0, values);
    finalRead(history, 0, ['v0']);
    history.finalRead(0, 10, 'late'); // sent but never acknowledged, beyond every ack
    history.sendStarted('late', 'w1');
    const text = formatReport(checkQueue(history), 2);
    expect(text.split('\n')).toEqual([
      'INVALID: lost 6, unseen 0, duplicated 0, inconsistentOffsets 0, reorderedPolls 0, reorderedSends 0, skippedPolls 0, ' +
        'unexpected 0, (redelivered 0), (unpolled 2); sent 8, acked 7, failed 0, indeterminate 0, unanswered 1, ' +
        'recovered indeterminate 1, polled 0 by 0 consumers, final read 2',
      'lost (6):',
      "  'v1' acked at p0@1; the final read of p0 ends at 10 without it",
      "  'v2' acked at p0@2; the final read of p0 ends at 10 without it",
      '  ... and 4 more',
    ]);
  });

  it('string partition keys are named as given', () => {
    const history = new QueueHistory();
    history.sendStarted('a');
    history.acked('a', 'orders-0', 3);
    const report = checkQueue(history);
    expect(report.anomalies.unseen[0]!.detail).toBe("'a' acked at orders-0@3; the final read of orders-0 holds nothing");
  });
});
