namespace Compose;

/// <summary>
/// The names of Compose's telemetry, for wiring an OpenTelemetry SDK (<c>AddMeter(ComposeTelemetry.MeterName)</c>,
/// <c>AddSource(ComposeTelemetry.ActivitySourceName)</c>) or a <see cref="System.Diagnostics.Metrics.MeterListener"/>.
/// Names follow the OpenTelemetry semantic-convention style (dotted lower case, seconds for durations).
/// </summary>
/// <remarks>
/// Instruments of the meter <see cref="MeterName"/>:
/// <list type="bullet">
/// <item><description><c>compose.plugin.init.duration</c>: histogram, seconds, from the <c>InitAsync</c> call to its task's end; tags <see cref="PluginIdTag"/>, <see cref="OutcomeTag"/> and, on failure, <c>error.type</c>.</description></item>
/// <item><description><c>compose.plugin.exit.duration</c>: the same for <c>ExitAsync</c> at shutdown.</description></item>
/// <item><description><c>compose.plugin.state</c>: observable up-down counter, <c>{plugin}</c>, the number of composed plugins per <see cref="StateTag"/>.</description></item>
/// <item><description><c>compose.plugin.restarts</c>: counter, <c>{restart}</c>, restarts of a plugin's crashed hosted services; tag <see cref="PluginIdTag"/>.</description></item>
/// </list>
/// Requests routed to a plugin add <see cref="PluginIdTag"/> to ASP.NET Core's <c>http.server.request.duration</c> and to
/// the request's activity. The activities <c>compose.plugin.init</c> and <c>compose.plugin.exit</c> (children of
/// <c>compose.plugins.init</c> and <c>compose.plugins.exit</c>) time each plugin's lifecycle. Log entries written
/// while a plugin's endpoint, <c>InitAsync</c>, <c>ExitAsync</c> or hosted service runs carry a scope with
/// <see cref="PluginIdScopeKey"/> (and <see cref="RouteScopeKey"/> for endpoints). Mirrors Mattermost's per-plugin
/// metrics labelled <c>plugin_id</c>.
/// </remarks>
public static class ComposeTelemetry
{
    /// <summary>The name of Compose's <see cref="System.Diagnostics.Metrics.Meter"/>: <c>Compose</c>.</summary>
    public const string MeterName = "Compose";

    /// <summary>The name of Compose's <see cref="System.Diagnostics.ActivitySource"/>: <c>Compose</c>.</summary>
    public const string ActivitySourceName = "Compose";

    /// <summary>The tag naming the plugin on metrics and activities: <c>compose.plugin.id</c>.</summary>
    public const string PluginIdTag = "compose.plugin.id";

    /// <summary>The tag of a lifecycle step's outcome: <c>compose.plugin.outcome</c>, one of <c>success</c>, <c>failure</c>, <c>timeout</c>.</summary>
    public const string OutcomeTag = "compose.plugin.outcome";

    /// <summary>The tag of <c>compose.plugin.state</c>: <c>compose.plugin.state</c>, a <see cref="ServerPluginState"/> in lower case.</summary>
    public const string StateTag = "compose.plugin.state";

    /// <summary>The log scope key naming the plugin: <c>PluginId</c>.</summary>
    public const string PluginIdScopeKey = "PluginId";

    /// <summary>The log scope key of the route pattern, in a plugin endpoint's scope: <c>PluginRoute</c>.</summary>
    public const string RouteScopeKey = "PluginRoute";
}
