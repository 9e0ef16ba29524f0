namespace Compose.PostgreSql;

/// <summary>Settings of the PostgreSQL store backend (configuration section <c>Compose:Store</c>).</summary>
public sealed class PostgreSqlStoreOptions
{
    /// <summary>Gets or sets the Npgsql connection string (<c>Compose:Store:ConnectionString</c>). Required.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// Gets or sets the schema that holds Compose's table and sequence (<c>Compose:Store:Schema</c>); default
    /// <c>public</c>. Created if missing.
    /// </summary>
    public string Schema { get; set; } = "public";

    /// <summary>
    /// Gets or sets how often a replica waiting for a run-once lease asks for it again, and how often the holder checks
    /// its connection (<c>Compose:Store:LeaseCheckInterval</c>); default 5 s, between 100 ms and 5 min. After the holder dies,
    /// another replica takes over within about this interval (plus the server noticing a vanished client: the lease
    /// connection sets TCP keep-alives of 5 s idle, 2 s interval, 3 probes).
    /// </summary>
    public TimeSpan LeaseCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how many times a store call is tried when PostgreSQL fails transiently (<c>Compose:Store:MaxAttempts</c>); default 3, 1 to 10.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Gets or sets the first back-off between attempts, doubled each time (<c>Compose:Store:RetryDelay</c>); default 100 ms, at most 10 s.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets the timeout of one command, in seconds (<c>Compose:Store:CommandTimeoutSeconds</c>); default 5, 1 to 300.</summary>
    public int CommandTimeoutSeconds { get; set; } = 5;

    /// <summary>
    /// Gets or sets this replica's id (<c>Compose:Store:ReplicaId</c>): how other replicas, the catalog and the health
    /// checks name it as a run-once lease holder and as the sender of cluster events. Unique per running replica (a pod
    /// name, a host name with its port); 1 to 128 bytes of UTF-8 without control characters. Default
    /// <see langword="null"/>: <c>Compose:Store:ReplicaId</c> of the host's configuration if set, else
    /// <see cref="Compose.Store.PluginStoreBackend.ProcessReplicaId"/> (<c>{machine}/{process id}/{random}</c>).
    /// </summary>
    public string? ReplicaId { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    /// <exception cref="ArgumentException">A setting is missing or out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException("Compose:Store:ConnectionString is required for the PostgreSql store provider.", nameof(ConnectionString));
        }

        if (string.IsNullOrEmpty(Schema) || Schema.Length > 63 || !Schema.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_') || char.IsDigit(Schema[0]))
        {
            throw new ArgumentException($"Compose:Store:Schema '{Schema}' must be 1 to 63 characters of a-z, 0-9 and _, not starting with a digit.", nameof(Schema));
        }

        if (LeaseCheckInterval < TimeSpan.FromMilliseconds(100) || LeaseCheckInterval > TimeSpan.FromMinutes(5))
        {
            throw new ArgumentException($"Compose:Store:LeaseCheckInterval {LeaseCheckInterval} must lie between 100 ms and 5 min.", nameof(LeaseCheckInterval));
        }

        if (ReplicaId is not null)
        {
            Compose.Store.PluginStoreLimits.ValidateReplicaId(ReplicaId);
        }

        if (MaxAttempts is < 1 or > 10)
        {
            throw new ArgumentException($"Compose:Store:MaxAttempts {MaxAttempts} must lie between 1 and 10.", nameof(MaxAttempts));
        }

        if (RetryDelay < TimeSpan.Zero || RetryDelay > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentException($"Compose:Store:RetryDelay {RetryDelay} must lie between 0 and 10 s.", nameof(RetryDelay));
        }

        if (CommandTimeoutSeconds is < 1 or > 300)
        {
            throw new ArgumentException($"Compose:Store:CommandTimeoutSeconds {CommandTimeoutSeconds} must lie between 1 and 300.", nameof(CommandTimeoutSeconds));
        }
    }
}
