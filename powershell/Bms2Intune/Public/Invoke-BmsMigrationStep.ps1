function Invoke-BmsMigrationStep {
    <#
    .SYNOPSIS
    Carries out one policy step of the migration through Microsoft Graph (or shows what it would do).

    .DESCRIPTION
    Runs one of the steps that come before and between the license waves, in this order:
    policies (create every Intune object of intune/manifest.json, unassigned), assign-pilot
    (assign them to the pilot group; then license wave 0), assign (the policy gate: assign them to
    their recommended groups, which must be done before wave 1). Every Graph operation is recorded
    in the workspace journal, so a rerun resumes and never creates a policy twice.

    It changes the tenant, so it asks for confirmation (ConfirmImpact High); -WhatIf (or -DryRun)
    asks the binary for a dry run instead: no Graph call, no credentials, the operations listed.
    Unattended jobs pass -Confirm:$false. Real runs use the credentials of Connect-BmsGraph (else
    the binary's environment variables).

    Outputs one Bms2Intune.MigrationAction per Graph operation; failed operations also give a
    non-terminating 'apply.partial_failure' error, and the binary's notes come as warnings.

    .PARAMETER Step
    policies, assign-pilot or assign. Accepts strings and objects with a Step property through
    the pipeline.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER WritesPerSecond
    Pace of Graph write requests (default 4 per second).

    .PARAMETER DryRun
    Only list the operations; change nothing.

    .EXAMPLE
    Invoke-BmsMigrationStep -Workspace .\work -Step policies -WhatIf

    Lists the Intune policies the first step would create, without changing the tenant.

    .EXAMPLE
    Invoke-BmsMigrationStep -Workspace .\work -Step assign -WritesPerSecond 2 -Confirm:$false

    Assigns the Intune policies to their recommended groups (the gate before wave 1) in a
    scheduled job, at two writes per second.

    .EXAMPLE
    'policies', 'assign-pilot' | Invoke-BmsMigrationStep -Workspace .\work -DryRun

    Dry-runs the two steps before the pilot wave.

    .INPUTS
    System.String, objects with a Step property.

    .OUTPUTS
    Bms2Intune.MigrationAction

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('Bms2Intune.MigrationAction')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [ValidateSet('policies', 'assign-pilot', 'assign')]
        [string] $Step,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $Workspace,

        [ValidateRange(0.1, 100)]
        [double] $WritesPerSecond,

        [switch] $DryRun
    )
    process {
        try {
            $ws = Resolve-BmsWorkspace -Workspace $Workspace
            $dry = [bool]$DryRun
            if (-not $dry) {
                if (-not $PSCmdlet.ShouldProcess("step '$Step' of the plan in '$ws'", 'Change Intune policies through Microsoft Graph')) {
                    if ($WhatIfPreference) { $dry = $true } else { return }
                }
            }
            $params = [ordered]@{}
            $params['workspace'] = $ws
            $params['step'] = $Step
            $params['dry_run'] = $dry
            if ($PSBoundParameters.ContainsKey('WritesPerSecond')) { $params['writes_per_second'] = $WritesPerSecond }
            $sensitive = $false
            if (-not $dry) {
                # Credentials and endpoints of Connect-BmsGraph; a dry run needs none.
                if ($script:BmsGraphAuth) { $params['auth'] = & $script:BmsGraphAuth; $sensitive = $true }
                if ($script:BmsGraphEndpoints.Contains('graph_url')) { $params['graph_url'] = $script:BmsGraphEndpoints['graph_url'] }
                if ($script:BmsGraphEndpoints.Contains('login_url')) { $params['login_url'] = $script:BmsGraphEndpoints['login_url'] }
            }
            try {
                $result = Invoke-BmsRpc -Command 'apply' -Params $params -Sensitive:$sensitive
            } catch {
                throw (Get-BmsUnavailableError -ErrorRecord $_ -Feature "Running step '$Step' through Microsoft Graph")
            } finally {
                $params = $null
            }
            ConvertTo-BmsMigrationAction -Result $result
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
    }
}
