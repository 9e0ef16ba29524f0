using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Compose.Store;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Compose.PostgreSql;

/// <summary>
/// The PostgreSQL <see cref="PluginStoreBackend"/>: one table (<c>compose_plugin_store</c>, primary key plugin id and
/// key, a <c>version</c> column from one sequence for compare-and-set), <c>LISTEN</c>/<c>NOTIFY</c> on the channel
/// <c>compose_plugin_events</c>, and session advisory locks for run-once leases. Register it with
/// <see cref="PostgreSqlServiceCollectionExtensions.AddComposePostgreSqlStore(Microsoft.Extensions.DependencyInjection.IServiceCollection, string, Action{PostgreSqlStoreOptions}?)"/>.
/// </summary>
/// <remarks>
/// The schema is created idempotently (under a transaction advisory lock, so replicas starting together do not race)
/// at start-up and again on first use if PostgreSQL was down then. Store calls retry transient failures
/// (<see cref="NpgsqlException.IsTransient"/>) up to <see cref="PostgreSqlStoreOptions.MaxAttempts"/> times with doubling
/// back-off, then throw <see cref="PluginStoreUnavailableException"/>. A write whose connection broke after PostgreSQL
/// committed it may be retried: a set then writes the same value again (a newer version); a compare-and-set then
/// reports that it lost, with the version it wrote itself.
/// </remarks>
public sealed class PostgreSqlStoreBackend : PluginStoreBackend, IAsyncDisposable
{
    /// <summary>The channel of cluster events.</summary>
    internal const string Channel = "compose_plugin_events";

    private readonly ConcurrentDictionary<string, PostgreSqlPluginStore> _stores = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, PostgreSqlClusterEvents> _events = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposed = new();
    private readonly object _gate = new();
    private Task? _schema;
    private Task? _listener;

    /// <summary>Creates the backend; nothing connects until first use or <see cref="EnsureSchemaAsync"/>.</summary>
    /// <param name="options">The settings (validated here).</param>
    /// <param name="loggerFactory">Where the backend logs; default none.</param>
    /// <exception cref="ArgumentException">A setting is missing or out of range, or the connection string does not parse.</exception>
    public PostgreSqlStoreBackend(PostgreSqlStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        Logger = loggerFactory?.CreateLogger("Compose.PostgreSql") ?? NullLogger.Instance;
        StoreLogger = loggerFactory?.CreateLogger("Compose.Store") ?? NullLogger.Instance;
        NpgsqlConnectionStringBuilder connection;
        try
        {
            connection = new NpgsqlConnectionStringBuilder(options.ConnectionString) { CommandTimeout = options.CommandTimeoutSeconds };
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or KeyNotFoundException)
        {
            throw new ArgumentException($"Compose:Store:ConnectionString does not parse: {ex.Message}", nameof(options), ex);
        }

        Endpoint = $"{connection.Host}:{connection.Port}/{connection.Database}";
        DataSource = new NpgsqlSlimDataSourceBuilder(connection.ConnectionString).Build();

        // Leases and the listener hold their connection for long: unpooled, so closing one ends its session (and its locks).
        var dedicated = new NpgsqlConnectionStringBuilder(connection.ConnectionString) { Pooling = false, KeepAlive = 5 };
        DedicatedSource = new NpgsqlSlimDataSourceBuilder(dedicated.ConnectionString).Build();
        Table = $"\"{options.Schema}\".compose_plugin_store";
        Sequence = $"\"{options.Schema}\".compose_plugin_store_version";
        Leases = $"\"{options.Schema}\".compose_plugin_leases";
    }

    /// <inheritdoc />
    public override string Name => "PostgreSql";

    /// <inheritdoc />
    /// <remarks><see cref="PostgreSqlStoreOptions.ReplicaId"/> when set, else <see cref="PluginStoreBackend.ProcessReplicaId"/>.</remarks>
    public override string ReplicaId => Options.ReplicaId ?? ProcessReplicaId;

    /// <summary>Gets the settings.</summary>
    public PostgreSqlStoreOptions Options { get; }

    /// <summary>Gets where PostgreSQL is (<c>host:port/database</c>, no credentials), for messages.</summary>
    public string Endpoint { get; }

    internal NpgsqlDataSource DataSource { get; }

    internal NpgsqlDataSource DedicatedSource { get; }

    internal string Table { get; }

    internal string Sequence { get; }

    /// <summary>Gets the table naming each run-once lease's holder (the lock itself is the advisory lock).</summary>
    internal string Leases { get; }

    internal ILogger Logger { get; }

    internal ILogger StoreLogger { get; }

    /// <inheritdoc />
    public override IPluginStore GetStore(string pluginId)
    {
        ArgumentException.ThrowIfNullOrEmpty(pluginId);
        return _stores.GetOrAdd(pluginId, id => new PostgreSqlPluginStore(this, id));
    }

    /// <inheritdoc />
    public override IPluginClusterEvents GetEvents(string pluginId)
    {
        ArgumentException.ThrowIfNullOrEmpty(pluginId);
        var events = _events.GetOrAdd(pluginId, id => new PostgreSqlClusterEvents(this, id));
        EnsureListener();
        return events;
    }

    /// <inheritdoc />
    public override Task<IPluginLease> AcquireLeaseAsync(string name, Action<PluginLeaseHolder?>? holderSeen, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return PostgreSqlLease.AcquireAsync(this, name, LockKey(name), holderSeen, cancellationToken);
    }

    /// <summary>Creates the schema, table and sequence if missing (idempotent; safe from several replicas at once).</summary>
    /// <param name="cancellationToken">Cancels the wait (the creation itself is not rolled back by it once sent).</param>
    /// <returns>A task that completes once the schema exists.</returns>
    /// <exception cref="PluginStoreUnavailableException">PostgreSQL cannot be reached.</exception>
    public Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        Task task;
        lock (_gate)
        {
            if (_schema is null || _schema.IsFaulted || _schema.IsCanceled)
            {
                _schema = CreateSchemaAsync();
            }

            task = _schema;
        }

        return task.WaitAsync(cancellationToken);
    }

    /// <summary>Deletes the expired entries of every plugin (reads already ignore them).</summary>
    /// <param name="cancellationToken">Cancels the sweep.</param>
    /// <returns>How many entries were deleted.</returns>
    /// <exception cref="PluginStoreUnavailableException">PostgreSQL cannot be reached.</exception>
    public Task<int> DeleteExpiredAsync(CancellationToken cancellationToken = default)
        => RunAsync("*", "sweep", async (connection, ct) =>
        {
            await using var command = new NpgsqlCommand($"DELETE FROM {Table} WHERE expires_at <= now()", connection);
            return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _disposed.Cancel();
        if (_listener is { } listener)
        {
            await listener.ConfigureAwait(false);
        }

        await DataSource.DisposeAsync().ConfigureAwait(false);
        await DedicatedSource.DisposeAsync().ConfigureAwait(false);
        _disposed.Dispose();
    }

    /// <summary>Runs one store operation on a pooled connection with bounded retries of transient failures.</summary>
    internal async Task<T> RunAsync<T>(string pluginId, string operation, Func<NpgsqlConnection, CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        if (operation != "schema")
        {
            try
            {
                await EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PluginStoreUnavailableException ex)
            {
                throw new PluginStoreUnavailableException(
                    $"The plugin store cannot reach PostgreSQL at {Endpoint} ({operation} for plugin '{pluginId}'; preparing the schema failed): {ex.InnerException?.Message}",
                    ex.InnerException);
            }
        }

        var delay = Options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                return await body(connection, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                if (attempt >= Options.MaxAttempts)
                {
                    throw new PluginStoreUnavailableException(
                        $"The plugin store cannot reach PostgreSQL at {Endpoint} ({operation} for plugin '{pluginId}', {attempt} attempt(s)): {ex.Message}", ex);
                }

                Log.Transient(Logger, operation, pluginId, attempt, Options.MaxAttempts, ex.Message);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay += delay;
            }
        }
    }

    /// <summary>Whether an exception is a failure of PostgreSQL or the network that a retry may cure.</summary>
    internal static bool IsTransient(Exception ex, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        return ex switch
        {
            PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is "57P01" or "57P02" or "57P03",
            NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException,
            TimeoutException or IOException or System.Net.Sockets.SocketException => true,
            _ => false,
        };
    }

    /// <summary>Delivers a notification to this replica's subscribers of its plugin.</summary>
    internal void Dispatch(string payload)
    {
        if (!PostgreSqlClusterEvents.TryParse(payload, ReplicaId, out var pluginId, out var clusterEvent))
        {
            Log.MalformedNotification(Logger);
            return;
        }

        if (_events.TryGetValue(pluginId, out var events))
        {
            events.Local.Deliver(clusterEvent);
        }
    }

    private static long LockKey(string name)
        => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("compose-lease:" + name)), 0);

    private async Task CreateSchemaAsync()
    {
        await RunAsync("*", "schema", async (connection, ct) =>
        {
            await using var transaction = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
            var sql = $"""
                SELECT pg_advisory_xact_lock({LockKey("schema:" + Options.Schema)});
                CREATE SCHEMA IF NOT EXISTS "{Options.Schema}";
                CREATE SEQUENCE IF NOT EXISTS {Sequence};
                CREATE TABLE IF NOT EXISTS {Table} (
                    plugin_id text COLLATE "C" NOT NULL,
                    key text COLLATE "C" NOT NULL,
                    value bytea NOT NULL,
                    version bigint NOT NULL,
                    expires_at timestamptz NULL,
                    PRIMARY KEY (plugin_id, key));
                CREATE TABLE IF NOT EXISTS {Leases} (
                    name text COLLATE "C" PRIMARY KEY,
                    holder text NOT NULL,
                    pid integer NOT NULL,
                    since timestamptz NOT NULL);
                """;
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            await transaction.CommitAsync(ct).ConfigureAwait(false);
            return 0;
        }, _disposed.Token).ConfigureAwait(false);
        Log.SchemaReady(Logger, Options.Schema);
    }

    private void EnsureListener()
    {
        lock (_gate)
        {
            _listener ??= Task.Run(() => ListenAsync(_disposed.Token));
        }
    }

    // One connection per replica LISTENs; on loss it reconnects with back-off (events published meanwhile are missed: at-most-once).
    private async Task ListenAsync(CancellationToken stopping)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await DedicatedSource.OpenConnectionAsync(stopping).ConfigureAwait(false);
                connection.Notification += (_, e) =>
                {
                    if (e.Channel == Channel)
                    {
                        Dispatch(e.Payload);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
                }

                Listening = true;
                Log.ListenerConnected(Logger);
                delay = TimeSpan.FromMilliseconds(200);
                while (!stopping.IsCancellationRequested)
                {
                    // Wakes at least every check interval to notice a dead connection (a keep-alive query).
                    if (!await connection.WaitAsync(Options.LeaseCheckInterval, stopping).ConfigureAwait(false))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", connection);
                        await ping.ExecuteScalarAsync(stopping).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Listening = false;
                Log.ListenerLost(Logger, ex.Message, delay, ex);
                try
                {
                    await Task.Delay(delay, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
            finally
            {
                Listening = false;
            }
        }
    }

    /// <summary>Gets whether this replica's listener is connected (events published now reach it).</summary>
    public bool Listening { get; private set; }
}
