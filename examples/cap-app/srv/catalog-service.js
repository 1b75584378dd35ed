// Delegates reads of CatalogService.Products to the remote on-prem service (reached via the `ERP` destination).
import cds from '@sap/cds';

export default class CatalogService extends cds.ApplicationService {
  async init() {
    const erp = await cds.connect.to('API_SAMPLE_SRV');
    this.on('READ', 'Products', (req) => erp.run(req.query));
    return super.init();
  }
}
