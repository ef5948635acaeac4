function Invoke-BmsMigrationWave {
    <#
    .SYNOPSIS
    Licenses one wave of the plan for Intune through Microsoft Graph (or shows what it would do).

    .DESCRIPTION
    Carries out wave N of the workspace's plan (0 = the pilot): checks the free seats of the
    Intune product, finds or creates the wave's license group, adds the wave's users and assigns
    the license to the group. Their BMS-managed devices move to Intune at their next check-in.
    Every Graph operation is recorded in the workspace journal, so running the same wave again
    resumes where it stopped and never repeats a done operation. The binary refuses a wave whose
    gate is not met (wave 0 after the assign-pilot step, later waves after the assign step and
    the previous wave) unless -Force is given.

    This changes the tenant, so it asks for confirmation (ConfirmImpact High). -WhatIf (or
    -DryRun) asks the binary for a dry run instead: no Graph call, no credentials, and the
    operations are listed. Unattended jobs pass -Confirm:$false. Real runs use the credentials of
    Connect-BmsGraph (else the binary's environment variables).

    Outputs one Bms2Intune.MigrationAction per Graph operation (planned, done, skipped or failed,
    with the reason). Failed operations also give a non-terminating 'apply.partial_failure' error;
    the binary's notes come as warnings.

    .PARAMETER Wave
    The wave number (0 = pilot). Accepts Bms2Intune.Wave objects (Number) through the pipeline.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER Sku
    Part number of the Intune product to license with (e.g. EMS or EMSPREMIUM); needed when the
    tenant has several products with Intune and free seats.

    .PARAMETER Force
    Run the wave although its gate is not met (not recommended).

    .PARAMETER WritesPerSecond
    Pace of Graph write requests (default 4 per second).

    .PARAMETER DryRun
    Only list the operations; change nothing (same as -WhatIf, without the confirmation prompt).

    .EXAMPLE
    Invoke-BmsMigrationWave -Workspace .\work -Wave 0 -Sku EMS -WhatIf

    Lists what licensing the pilot wave with EMS E3 would do, without changing the tenant.

    .EXAMPLE
    Invoke-BmsMigrationWave -Workspace .\work -Wave 1 -Force -WritesPerSecond 2 -Confirm:$false

    Licenses wave 1 without a prompt, although its gate is not met, at two writes per second.

    .EXAMPLE
    New-BmsWavePlan -Workspace .\work -PilotGroup 'BMS Pilot' | Where-Object Number -eq 0 | Invoke-BmsMigrationWave -Sku EMS -DryRun

    Plans and dry-runs the pilot wave in one pipeline.

    .INPUTS
    Bms2Intune.Wave, System.Int32

    .OUTPUTS
    Bms2Intune.MigrationAction

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('Bms2Intune.MigrationAction')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Number')]
        [ValidateRange(0, 100000)]
        [int] $Wave,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $Workspace,

        [ValidateNotNullOrEmpty()]
        [string] $Sku,

        [switch] $Force,

        [ValidateRange(0.1, 100)]
        [double] $WritesPerSecond,

        [switch] $DryRun
    )
    process {
        try {
            $ws = Resolve-BmsWorkspace -Workspace $Workspace
            $dry = [bool]$DryRun
            if (-not $dry) {
                $what = "wave $Wave of the plan in '$ws'"
                if ($Wave -eq 0) { $what = "the pilot wave (0) of the plan in '$ws'" }
                if (-not $PSCmdlet.ShouldProcess($what, 'Assign Intune licenses (devices move from BMS to Intune)')) {
                    # -WhatIf becomes the binary's dry run; a declined -Confirm does nothing.
                    if ($WhatIfPreference) { $dry = $true } else { return }
                }
            }
            $params = [ordered]@{}
            $params['workspace'] = $ws
            $params['wave'] = $Wave
            $params['dry_run'] = $dry
            if ($Sku) { $params['sku'] = $Sku }
            if ($Force) { $params['force'] = $true }
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
                throw (Get-BmsUnavailableError -ErrorRecord $_ -Feature 'Licensing a wave through Microsoft Graph')
            } finally {
                $params = $null
            }
            ConvertTo-BmsMigrationAction -Result $result
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
    }
}
