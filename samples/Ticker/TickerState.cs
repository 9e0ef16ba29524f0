namespace Ticker;

/// <summary>
/// What the background task has done so far: a singleton written by <see cref="TickerService"/> and read by
/// <c>GET /ticks</c>. Thread-safe; a read always sees a count and a time from the same tick.
/// </summary>
public sealed class TickerState
{
    private readonly Lock _gate = new();
    private TickSnapshot _current = new(0, null);

    /// <summary>Gets the latest snapshot.</summary>
    public TickSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Records one tick.</summary>
    /// <param name="time">When the tick happened.</param>
    /// <returns>The snapshot after the tick.</returns>
    public TickSnapshot Tick(DateTimeOffset time)
    {
        lock (_gate)
        {
            var next = new TickSnapshot(_current.Count + 1, time);
            Volatile.Write(ref _current, next);
            return next;
        }
    }
}

/// <summary>The body of <c>GET /ticks</c>: <c>{ "count": 3, "lastTick": "2025-01-01T00:00:03+00:00" }</c>.</summary>
/// <param name="Count">How many times the background task has ticked since the host started.</param>
/// <param name="LastTick">When it last ticked (UTC, ISO 8601); null before the first tick.</param>
public sealed record TickSnapshot(long Count, DateTimeOffset? LastTick);
