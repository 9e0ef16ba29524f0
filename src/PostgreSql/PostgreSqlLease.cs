using Compose.Store;
using Npgsql;

namespace Compose.PostgreSql;

/// <summary>
/// A run-once lease: a session advisory lock held on a dedicated, unpooled connection. The lock goes with the session,
/// so a holder that dies (even <c>kill -9</c>) frees it as soon as PostgreSQL sees the connection close; the holder
/// checks its connection every <see cref="PostgreSqlStoreOptions.LeaseCheckInterval"/> and reports the lease lost when
/// the check fails.
/// </summary>
internal sealed class PostgreSqlLease : IPluginLease
{
    private readonly NpgsqlConnection _connection;
    private readonly long _key;
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly Task _monitor;

    private PostgreSqlLease(PostgreSqlStoreBackend backend, string name, long key, NpgsqlConnection connection)
    {
        Name = name;
        _key = key;
        _connection = connection;
        _monitor = Task.Run(() => MonitorAsync(backend.Options.LeaseCheckInterval));
    }

    public string Name { get; }

    public CancellationToken Lost => _lost.Token;

    public static async Task<IPluginLease> AcquireAsync(PostgreSqlStoreBackend backend, string name, long key, CancellationToken cancellationToken)
    {
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
                            return new PostgreSqlLease(backend, name, key, connection);
                        }
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
