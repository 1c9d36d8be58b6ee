/**
 * Twenty concurrent deliveries of one event, as a producer's retry storm sends them: exactly one
 * is applied, the rest answer `duplicate` with the same seq, none fails.
 */
export interface RetriesReport {
  attempts: number;
  applied: number;
  duplicates: number;
  failed: number;
  seqs: number[];
}

export async function concurrentRetries(url: string, token: string, attempts = 20): Promise<RetriesReport> {
  const eventId = `soak-retry-${Date.now().toString(36)}`;
  const body = JSON.stringify({
    event_id: eventId,
    type: 'alert.opened',
    occurred_at: new Date().toISOString(),
    data: { alert_id: eventId, severity: 'warning', title: 'soak retry' },
  });
  const answers = await Promise.all(
    Array.from({ length: attempts }, () =>
      fetch(`${url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body }).then(
        async (res) => ({ status: res.status, json: (await res.json()) as { results?: Array<{ status: string; seq: number | null }> } }),
      ),
    ),
  );
  const report: RetriesReport = { attempts, applied: 0, duplicates: 0, failed: 0, seqs: [] };
  for (const answer of answers) {
    const result = answer.json.results?.[0];
    if (answer.status >= 300 || !result) report.failed++;
    else if (result.status === 'applied') report.applied++;
    else if (result.status === 'duplicate') report.duplicates++;
    else report.failed++;
    if (result?.seq != null && !report.seqs.includes(result.seq)) report.seqs.push(result.seq);
  }
  return report;
}
