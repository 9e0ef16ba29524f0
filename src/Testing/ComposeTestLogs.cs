using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Compose.Testing;

/// <summary>One captured log line.</summary>
/// <param name="Level">The level; <see cref="LogLevel.None"/> for a line of process output that is not a log line.</param>
/// <param name="Category">The logger category, for example <c>Compose.ServerPlugins</c>; empty when unknown.</param>
/// <param name="EventId">The event id (0 when none was given).</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception logged with the message, as text (type, message and stack trace), or <see langword="null"/>.</param>
/// <param name="Scope">
/// The named values of the log scopes around the call (for example <c>PluginId</c>); empty for lines read from a
/// process's output, whose scopes are not printed.
/// </param>
public sealed record ComposeLogEntry(
    LogLevel Level,
    string Category,
    int EventId,
    string Message,
    string? Exception,
    IReadOnlyDictionary<string, object?> Scope)
{
    /// <summary>
    /// Gets the entry as the console logger's single-line format prints it:
    /// <c>info: Compose.ServerPlugins[1] Loaded plugin: Hello World (hello-world)</c>.
    /// </summary>
    public string Line => Level == LogLevel.None
        ? Message
        : string.Create(CultureInfo.InvariantCulture, $"{ComposeTestLogs.LevelName(Level)}: {Category}[{EventId}] {Message}");

    /// <inheritdoc/>
    public override string ToString() => Exception is null ? Line : $"{Line} {Exception}";
}

/// <summary>
/// The log lines a test host wrote, in the order they were written: every entry of an in-process
/// <see cref="ComposeTestHost"/>, or the standard output and error of a <see cref="NativeTestHost"/> process. Thread-safe;
/// hosts keep writing while a test reads.
/// </summary>
public sealed partial class ComposeTestLogs
{
    /// <summary>How many entries are kept; older ones are dropped (a host that logs in a loop must not exhaust memory).</summary>
    public const int Capacity = 100_000;

    private readonly Queue<ComposeLogEntry> _entries = new();
    private readonly object _lock = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _dropped;

    /// <summary>Gets a copy of the entries so far.</summary>
    public IReadOnlyList<ComposeLogEntry> Entries
    {
        get
        {
            lock (_lock)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>Gets the entries so far as single-line text (<see cref="ComposeLogEntry.Line"/>).</summary>
    public IReadOnlyList<string> Lines => Entries.Select(e => e.Line).ToList();

    /// <summary>Gets how many entries were dropped because more than <see cref="Capacity"/> were written.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Gets the messages written at <paramref name="level"/> or above.</summary>
    /// <param name="level">The lowest level returned.</param>
    /// <returns>The messages, oldest first.</returns>
    public IReadOnlyList<string> Messages(LogLevel level = LogLevel.Trace) =>
        Entries.Where(e => e.Level >= level && e.Level != LogLevel.None).Select(e => e.Message).ToList();

    /// <summary>Whether any entry's line contains <paramref name="text"/> (ordinal comparison).</summary>
    /// <param name="text">The text to look for.</param>
    /// <returns><see langword="true"/> when a line or its exception text contains it.</returns>
    public bool Contains(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Entries.Any(e => Matches(e, text));
    }

    /// <summary>
    /// Waits until an entry satisfies <paramref name="predicate"/> (one already written counts) and returns it; for
    /// lines written by background work such as a hosted service.
    /// </summary>
    /// <param name="predicate">The condition.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The first matching entry.</returns>
    /// <exception cref="TimeoutException">No entry matched within <paramref name="timeout"/>; the message lists the last lines.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in their first parameter (a predicate or a string), so no call is ambiguous.")]
    public async Task<ComposeLogEntry> WaitForAsync(Func<ComposeLogEntry, bool> predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                foreach (var entry in _entries)
                {
                    if (predicate(entry))
                    {
                        return entry;
                    }
                }

                changed = _changed.Task;
            }

            var left = timeout - deadline.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No log entry matched within {timeout.TotalSeconds:0.###} s. The last lines:{Environment.NewLine}{Tail(20)}");
            }

            try
            {
                await changed.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Checked once more at the top, then reported with the lines.
            }
        }
    }

    /// <summary>Waits until a line contains <paramref name="text"/>; see <see cref="WaitForAsync(Func{ComposeLogEntry, bool}, TimeSpan, CancellationToken)"/>.</summary>
    /// <param name="text">The text to look for (ordinal).</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The first matching entry.</returns>
    /// <exception cref="TimeoutException">No line contained <paramref name="text"/> within <paramref name="timeout"/>.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in their first parameter (a predicate or a string), so no call is ambiguous.")]
    public Task<ComposeLogEntry> WaitForAsync(string text, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WaitForAsync(e => Matches(e, text), timeout, cancellationToken);
    }

    /// <summary>Gets the last <paramref name="count"/> lines as one text, for assertion messages.</summary>
    /// <param name="count">How many lines, at most.</param>
    /// <returns>The lines, one per line of text.</returns>
    public string Tail(int count = 50)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var entries = Entries;
        return string.Join(Environment.NewLine, entries.Skip(Math.Max(0, entries.Count - count)).Select(e => e.ToString()));
    }

    /// <inheritdoc/>
    public override string ToString() => Tail(int.MaxValue);

    internal void Add(ComposeLogEntry entry)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _entries.Enqueue(entry);
            if (_entries.Count > Capacity)
            {
                _entries.Dequeue();
                _dropped++;
            }

            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>
    /// Adds one line of a process's output: a console-logger line in the single-line format becomes an entry with its
    /// level, category and event id; any other line continues the previous entry (an exception's stack trace) or, when
    /// there is none, becomes an entry of level <see cref="LogLevel.None"/>.
    /// </summary>
    internal void AddOutputLine(string line)
    {
        var match = ConsoleLine().Match(line);
        if (match.Success && ParseLevel(match.Groups["level"].Value) is { } level)
        {
            Add(new ComposeLogEntry(
                level,
                match.Groups["category"].Value,
                int.Parse(match.Groups["event"].Value, CultureInfo.InvariantCulture),
                match.Groups["message"].Value,
                null,
                Empty));
            return;
        }

        Add(new ComposeLogEntry(LogLevel.None, string.Empty, 0, line, null, Empty));
    }

    internal static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };

    internal static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();

    private static LogLevel? ParseLevel(string name) => name switch
    {
        "trce" => LogLevel.Trace,
        "dbug" => LogLevel.Debug,
        "info" => LogLevel.Information,
        "warn" => LogLevel.Warning,
        "fail" => LogLevel.Error,
        "crit" => LogLevel.Critical,
        _ => null,
    };

    private static bool Matches(ComposeLogEntry entry, string text) =>
        entry.Line.Contains(text, StringComparison.Ordinal) || (entry.Exception?.Contains(text, StringComparison.Ordinal) ?? false);

    [GeneratedRegex(@"^(?<level>trce|dbug|info|warn|fail|crit): (?<category>[^\[\s]+)\[(?<event>-?\d+)\] ?(?<message>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ConsoleLine();
}

/// <summary>A logger provider that writes every entry to a <see cref="ComposeTestLogs"/> and, optionally, to a sink.</summary>
internal sealed class CapturingLoggerProvider(ComposeTestLogs logs, Action<string>? sink) : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private void Write(LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var scope = new ScopeCollector();
        _scopes.ForEachScope(static (value, collector) => collector.Add(value), scope);
        var entry = new ComposeLogEntry(level, category, eventId.Id, message, exception?.ToString(), scope.Values ?? ComposeTestLogs.Empty);
        logs.Add(entry);
        if (sink is not null)
        {
            try
            {
                sink(entry.ToString());
            }
            catch (InvalidOperationException)
            {
                // xUnit's ITestOutputHelper throws once its test has finished; a late line from background work is kept
                // in the captured logs only.
            }
        }
    }

    /// <summary>The named values of the scopes around a log call (a scope that is a list of key/value pairs).</summary>
    private sealed class ScopeCollector
    {
        public Dictionary<string, object?>? Values { get; private set; }

        public void Add(object? scope)
        {
            if (scope is not IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                return;
            }

            foreach (var (key, value) in pairs)
            {
                if (key != "{OriginalFormat}")
                {
                    (Values ??= new Dictionary<string, object?>(StringComparer.Ordinal))[key] = value;
                }
            }
        }
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            ArgumentNullException.ThrowIfNull(formatter);
            owner.Write(logLevel, category, eventId, formatter(state, exception), exception);
        }
    }
}
