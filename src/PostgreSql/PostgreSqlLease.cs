using Compose.Store;
using Npgsql;

namespace Compose.PostgreSql;

/// <summary>
/// A run-once lease: a session advisory lock held on a dedicated, unpooled connection. The lock goes with the session,
/// so a holder that dies (even <c>kill -9</c>) frees it as soon as PostgreSQL sees the connection close; the holder
/// checks its connection every <see cref="PostgreSqlStoreOptions.LeaseCheckInterval"/> and reports the lease lost when
/// the check fails. The holder also writes its replica id, backend pid and the time into <c>compose_plugin_leases</c>,
/// so that waiting replicas can name it: a row counts only while <c>pg_locks</c> shows the lock granted to that pid
/// (a dead holder's row is ignored at once, with no clean-up).
/// </summary>
internal sealed class PostgreSqlLease : IPluginLease
{
    private readonly NpgsqlConnection _connection;
    private readonly long _key;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly Task _monitor;

    private PostgreSqlLease(PostgreSqlStoreBackend backend, string name, long key, NpgsqlConnection connection, DateTimeOffset since)
    {
        Name = name;
        Since = since;
        _key = key;
        _connection = connection;
        _monitor = Task.Run(() => MonitorAsync(backend.Options.LeaseCheckInterval));
    }

    public string Name { get; }

    public CancellationToken Lost => _lost.Token;

    public DateTimeOffset Since { get; }

    public static async Task<IPluginLease> AcquireAsync(PostgreSqlStoreBackend backend, string name, long key, Action<PluginLeaseHolder?>? holderSeen, CancellationToken cancellationToken)
    {
        // The holder table is part of the schema (created at start-up, or here if PostgreSQL was down then).
        await backend.EnsureSchemaAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            NpgsqlConnection connection;
            try
            {
                connection = await backend.DedicatedSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (PostgreSqlStoreBackend.IsTransient(ex, cancellationToken))
            {
                throw new PluginStoreUnavailableException($"The run-once lease '{name}' cannot reach PostgreSQL at {backend.Endpoint}: {ex.Message}", ex);
            }

            try
            {
                // The server drops a vanished client (no FIN: a dead machine) within about 5 + 2 × 3 s and frees its lock.
                await using (var setup = new NpgsqlCommand("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3", connection))
                {
                    await setup.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                while (true)
                {
                    await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection))
                    {
                        tryLock.Parameters.Add(new NpgsqlParameter<long> { TypedValue = key });
                        if (await tryLock.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true)
                        {
                            var since = await TryRecordHolderAsync(backend, connection, name, cancellationToken).ConfigureAwait(false);
                            return new PostgreSqlLease(backend, name, key, connection, since);
                        }
                    }

                    if (holderSeen is not null)
                    {
                        holderSeen(await TryReadHolderAsync(backend, connection, name, key, cancellationToken).ConfigureAwait(false));
                    }

                    await Task.Delay(backend.Options.LeaseCheckInterval, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                if (PostgreSqlStoreBackend.IsTransient(ex, cancellationToken))
                {
                    throw new PluginStoreUnavailableException($"The run-once lease '{name}' lost PostgreSQL at {backend.Endpoint} while waiting: {ex.Message}", ex);
                }

                throw;
            }
        }
    }

    // Naming the holder is for the catalog and health only: a refusal by PostgreSQL (say, no right on the table) is
    // logged and never costs the lease. Transient failures propagate like those of the lock itself.
    private static async Task<DateTimeOffset> TryRecordHolderAsync(PostgreSqlStoreBackend backend, NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await RecordHolderAsync(backend, connection, name, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (!PostgreSqlStoreBackend.IsTransient(ex, cancellationToken))
        {
            Log.HolderUnknown(backend.Logger, name, ex.Message, ex);
            return DateTimeOffset.UtcNow;
        }
    }

    private static async Task<PluginLeaseHolder?> TryReadHolderAsync(PostgreSqlStoreBackend backend, NpgsqlConnection connection, string name, long key, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadHolderAsync(backend, connection, name, key, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException ex) when (!PostgreSqlStoreBackend.IsTransient(ex, cancellationToken))
        {
            Log.HolderUnknown(backend.Logger, name, ex.Message, ex);
            return null;
        }
    }

    // Names this replica as the holder (the lock is already held: the row only says who has it and since when).
    private static async Task<DateTimeOffset> RecordHolderAsync(PostgreSqlStoreBackend backend, NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var record = new NpgsqlCommand(
            $"""
            INSERT INTO {backend.Leases} (name, holder, pid, since) VALUES ($1, $2, pg_backend_pid(), now())
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, since = excluded.since
            RETURNING since
            """,
            connection);
        record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = backend.ReplicaId });
        var since = (DateTime)(await record.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return new DateTimeOffset(DateTime.SpecifyKind(since, DateTimeKind.Utc));
    }

    // The recorded holder, if the advisory lock is granted to its session now (pg_locks shows a bigint key as
    // classid = high 32 bits, objid = low 32 bits, objsubid = 1); null when nobody holds the lease.
    private static async Task<PluginLeaseHolder?> ReadHolderAsync(PostgreSqlStoreBackend backend, NpgsqlConnection connection, string name, long key, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand(
            $"""
            SELECT h.holder, h.since FROM {backend.Leases} h
            WHERE h.name = $1 AND EXISTS (
                SELECT 1 FROM pg_locks l
                WHERE l.locktype = 'advisory' AND l.granted AND l.pid = h.pid AND l.objsubid = 1
                  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND l.classid::bigint = $2 AND l.objid::bigint = $3)
            """,
            connection);
        read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        read.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)((ulong)key >> 32) });
        read.Parameters.Add(new NpgsqlParameter<long> { TypedValue = key & 0xFFFF_FFFFL });
        await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new PluginLeaseHolder(reader.GetString(0), new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc)))
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        _disposed.Cancel();
        await _monitor.ConfigureAwait(false);
        try
        {
            if (!_lost.IsCancellationRequested)
            {
                await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", _connection);
                unlock.Parameters.Add(new NpgsqlParameter<long> { TypedValue = _key });
                unlock.CommandTimeout = 2;
                await unlock.ExecuteScalarAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            // Closing the session below frees the lock anyway.
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
        _lost.Dispose();
        _disposed.Dispose();
    }

    private async Task MonitorAsync(TimeSpan interval)
    {
        try
        {
            while (true)
            {
                await Task.Delay(interval, _disposed.Token).ConfigureAwait(false);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
                timeout.CancelAfter(interval < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : interval);
                await using var ping = new NpgsqlCommand("SELECT 1", _connection);
                await ping.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
        }
        catch (Exception)
        {
            _lost.Cancel();
        }
    }
}
