namespace Compose.Generator;

/// <summary>Names of the pipeline steps, so tests can assert that they are cached.</summary>
internal static class TrackingNames
{
    public const string OwnPlugins = nameof(OwnPlugins);
    public const string OwnPluginList = nameof(OwnPluginList);
    public const string HostIdentity = nameof(HostIdentity);
    public const string ReferenceContext = nameof(ReferenceContext);
    public const string ReferencedManifests = nameof(ReferencedManifests);
    public const string HostSetting = nameof(HostSetting);
    public const string ExcludedPlugins = nameof(ExcludedPlugins);
    public const string Host = nameof(Host);
}
