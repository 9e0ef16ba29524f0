namespace Ticker;

/// <summary>Settings of the ticker plugin, from its section <c>Compose:Plugins:ticker</c>.</summary>
public sealed class TickerOptions
{
    /// <summary>
    /// Gets or sets how often the background task ticks, in milliseconds. Default 1000. A value that is not positive
    /// fails the plugin at start-up (its routes answer 503); the host and the other plugins keep running.
    /// </summary>
    public int IntervalMilliseconds { get; set; } = 1000;
}
